package io.pgwarden.analysis;

/**
 * What a statement does, in the words a policy author uses ({@code allow.commands}). A
 * statement's {@link StatementAnalysis#commands()} holds every kind it performs: a SELECT
 * with {@code WITH d AS (DELETE ...)} is SELECT and DELETE, an upsert is INSERT and UPDATE,
 * a MERGE also lists the INSERT/UPDATE/DELETE of its WHEN clauses. A policy that allows a
 * statement only when it allows all of them cannot be side-stepped by nesting.
 */
public enum Command {
    /** SELECT, VALUES, TABLE: reads rows. */
    SELECT,
    INSERT,
    UPDATE,
    DELETE,
    MERGE,
    TRUNCATE,
    /** COPY ... TO (the client, a server file or a program): a relation's rows or a query's result. */
    COPY_TO,
    /** COPY ... FROM (the client, a server file or a program) into a relation. */
    COPY_FROM,
    /** COPY to or from a file on the database server (besides COPY_TO or COPY_FROM). */
    COPY_FILE,
    /** COPY to or from a program run on the database server (besides COPY_TO or COPY_FROM). */
    COPY_PROGRAM,
    /**
     * Creates, changes or drops schema objects: CREATE/ALTER/DROP TABLE, VIEW, INDEX, SEQUENCE,
     * FUNCTION, TRIGGER, TYPE, DOMAIN, SCHEMA, EXTENSION, POLICY, DATABASE, ..., COMMENT,
     * SECURITY LABEL, and CREATE TABLE AS / SELECT INTO / CREATE MATERIALIZED VIEW.
     */
    DDL,
    /** GRANT and REVOKE of privileges or role membership, ALTER DEFAULT PRIVILEGES. */
    GRANT,
    /** CREATE/ALTER/DROP ROLE (USER, GROUP), ALTER ROLE ... SET, DROP OWNED, REASSIGN OWNED. */
    ROLE_ADMIN,
    /**
     * Changes the session's database role: SET [SESSION|LOCAL] ROLE, SET SESSION AUTHORIZATION,
     * RESET ROLE, RESET SESSION AUTHORIZATION, RESET ALL, DISCARD ALL (the setting name is
     * compared without regard to case, as PostgreSQL does). Not {@code set_config('role', ...)}:
     * that is a function call, listed in {@link StatementAnalysis#functions()}.
     */
    ROLE_SWITCH,
    /** SET of any other setting, including SET TRANSACTION and SET SESSION CHARACTERISTICS. */
    SET,
    /** RESET of one other setting. */
    RESET,
    SHOW,
    /**
     * BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE, ROLLBACK TO,
     * PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED, SET CONSTRAINTS.
     */
    TRANSACTION,
    /** PREPARE name AS statement (SQL level; the inner statement's commands are listed too). */
    PREPARE,
    /** EXECUTE name: the caller must look the prepared statement up and apply its analysis. */
    EXECUTE,
    DEALLOCATE,
    /** DECLARE cursor (the query's commands are listed too). */
    DECLARE,
    /** FETCH and MOVE. */
    FETCH,
    CLOSE,
    /** EXPLAIN; with ANALYZE the statement runs, and its commands are listed too. */
    EXPLAIN,
    /** DO: an anonymous code block in a procedural language; its body is not analysed. */
    DO,
    CALL,
    LISTEN,
    NOTIFY,
    UNLISTEN,
    LOCK,
    VACUUM,
    ANALYZE,
    /** CLUSTER, REINDEX, REFRESH MATERIALIZED VIEW, CHECKPOINT. */
    MAINTENANCE,
    /** DISCARD PLANS, SEQUENCES, TEMP or ALL (ALL also lists ROLE_SWITCH). */
    DISCARD,
    ALTER_SYSTEM,
    /** LOAD: loads a shared library into the server process. */
    LOAD
}
