package io.pgwarden.analysis;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the caller needs beyond commands, relations and functions to follow a statement's
 * effect on the session: settings it changes, prepared statements and cursors it creates or
 * uses, and the analysis of statements nested in EXPLAIN, PREPARE, DECLARE, COPY (query) and
 * CREATE TABLE AS. Everything a nested statement does that matters for policy is also in the
 * outer analysis's lists (see {@link StatementAnalysis}); the nested analysis is for the
 * caller's bookkeeping (PREPARE → EXECUTE, DECLARE → FETCH).
 */
public sealed interface StatementDetail {

    /** Nothing beyond the lists. */
    record None() implements StatementDetail {
    }

    None NONE = new None();

    /** How a SET or RESET changes a setting. */
    enum SettingChange {
        /** SET name TO value(s). */
        SET,
        /** SET name TO DEFAULT (same effect as RESET name, but within the transaction if LOCAL). */
        SET_DEFAULT,
        /** SET name FROM CURRENT (in a function definition). */
        SET_FROM_CURRENT,
        /** SET TRANSACTION ..., SET SESSION CHARACTERISTICS AS TRANSACTION ...: values are "option=value". */
        SET_MULTI,
        RESET,
        /** RESET ALL: every setting, including role and search_path. */
        RESET_ALL
    }

    /**
     * SET, RESET, SET ROLE/SESSION AUTHORIZATION, ALTER SYSTEM. {@code name} is in lower case
     * (PostgreSQL compares setting names without regard to case; SET SCHEMA is search_path,
     * SET NAMES is client_encoding, SET TIME ZONE is timezone); empty for RESET ALL.
     * {@code values} are the values as written, unquoted and not split: {@code SET search_path
     * = "$user", public} gives {@code ["$user", "public"]}, {@code SET search_path = 'a,b'}
     * gives {@code ["a,b"]}. For a list setting such as search_path each value is one item:
     * PostgreSQL quotes every value as an identifier, so {@code 'a,b'} names the one schema
     * "a,b" (checked: SHOW search_path then says {@code "a,b"}).
     */
    record Setting(SettingChange change, String name, List<String> values, boolean local) implements StatementDetail {
        public Setting {
            Objects.requireNonNull(change);
            Objects.requireNonNull(name);
            values = List.copyOf(values);
        }
    }

    /** SHOW name (lower case), or SHOW ALL ({@code all}). */
    record Show(String name) implements StatementDetail {
    }

    /** PREPARE name AS statement. */
    record Prepare(String name, StatementAnalysis statement) implements StatementDetail {
    }

    /** EXECUTE name (the caller looks the prepared statement up). */
    record Execute(String name) implements StatementDetail {
    }

    /** DEALLOCATE name, or DEALLOCATE ALL (empty name). */
    record Deallocate(Optional<String> name) implements StatementDetail {
    }

    /** DECLARE cursor ... FOR query; {@code binary}: FETCH returns binary-format values. */
    record Declare(String cursor, boolean withHold, boolean binary, StatementAnalysis query) implements StatementDetail {
    }

    /** FETCH or MOVE (move = true: no rows are returned). */
    record Fetch(String cursor, boolean move) implements StatementDetail {
    }

    /** CLOSE cursor, or CLOSE ALL (empty cursor). */
    record Close(Optional<String> cursor) implements StatementDetail {
    }

    /** EXPLAIN; {@code analyze}: the statement is executed. */
    record Explain(boolean analyze, StatementAnalysis statement) implements StatementDetail {
    }

    /** Where COPY's data comes from or goes to. */
    enum CopyEndpoint {
        /** STDIN / STDOUT: the client, through the gateway. */
        CLIENT,
        /** A file on the database server. */
        SERVER_FILE,
        /** A program run by the database server. */
        PROGRAM
    }

    /**
     * COPY: {@code target} is the file name or program command (empty for CLIENT);
     * {@code format} is {@code text}, {@code csv} or {@code binary} (FORMAT option, or the
     * older BINARY / CSV keywords).
     */
    record Copy(boolean from, CopyEndpoint endpoint, String target, String format, Optional<StatementAnalysis> query)
            implements StatementDetail {
    }

    /** CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED VIEW; {@code withData} false: WITH NO DATA, the query does not run. */
    record CreateAs(boolean withData, StatementAnalysis query) implements StatementDetail {
    }

    enum TransactionKind {
        BEGIN, START, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK_TO, PREPARE, COMMIT_PREPARED, ROLLBACK_PREPARED, SET_CONSTRAINTS
    }

    /** A transaction statement; {@code name} is the savepoint name or the prepared transaction's id, else empty. */
    record Transaction(TransactionKind kind, String name) implements StatementDetail {
    }

    enum DiscardTarget {
        ALL, PLANS, SEQUENCES, TEMP
    }

    /** DISCARD; ALL also resets the role and every setting and deallocates every prepared statement. */
    record Discard(DiscardTarget target) implements StatementDetail {
    }

    /** LISTEN, NOTIFY (with its payload, or empty) or UNLISTEN ({@code *} for all). */
    record Channel(String name, Optional<String> payload) implements StatementDetail {
    }

    /** DO block: the language ({@code plpgsql} unless given); the code is not analysed. */
    record Do(String language) implements StatementDetail {
    }
}
