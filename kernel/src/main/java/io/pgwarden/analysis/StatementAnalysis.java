package io.pgwarden.analysis;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What one SQL statement does, from PostgreSQL's own parse tree. Immutable and shared: the
 * analyzer caches it by statement text.
 *
 * <p>The lists describe everything that running the statement does or enables:
 * <ul>
 * <li>{@code command} is the statement's kind, except that a SELECT whose WITH clause
 *     modifies data takes the first modifying kind (INSERT, UPDATE, DELETE) and SELECT INTO
 *     is DDL; {@code commands} holds every kind the statement performs (including
 *     {@code command}).</li>
 * <li>PREPARE and DECLARE list their inner statement's commands, relations and functions
 *     (preparing a DELETE needs what the DELETE needs); EXECUTE lists none: the caller looks
 *     the prepared statement up ({@link #preparedStatement()}).</li>
 * <li>EXPLAIN lists the inner statement's relations (as READ) and functions; EXPLAIN ANALYZE
 *     runs the statement and lists everything, with the real access.</li>
 * <li>CREATE VIEW and CREATE MATERIALIZED VIEW ... WITH NO DATA list the relations of their
 *     query as READ; CREATE FUNCTION ... BEGIN ATOMIC lists its body's relations and calls
 *     (a string body, {@code AS '...'}, and DO blocks are not analysed).</li>
 * </ul>
 * Output-column lineage (which base columns each result column derives from) is planned as an
 * additional component; masking needs it (DESIGN §7).
 *
 * @param preparedStatement the SQL-level prepared statement this statement executes or
 *     explains (EXECUTE p, EXPLAIN [ANALYZE] EXECUTE p, CREATE TABLE AS EXECUTE p): the
 *     caller must apply that statement's analysis as well
 */
public record StatementAnalysis(
        Command command,
        Set<Command> commands,
        List<RelationRef> relations,
        List<FunctionRef> functions,
        Set<Flag> flags,
        StatementDetail detail,
        Optional<String> preparedStatement) {

    /** Facts about a statement for policy and approval rules. */
    public enum Flag {
        /** An UPDATE or DELETE (also inside WITH, PREPARE, EXPLAIN ANALYZE) has no WHERE clause at all. */
        NO_WHERE,
        /** Takes explicit locks: SELECT ... FOR UPDATE/NO KEY UPDATE/SHARE/KEY SHARE, LOCK. */
        LOCKING,
        /** Changes definitions or privileges: commands DDL, GRANT or ROLE_ADMIN. */
        DDL,
        /** Not a plannable SELECT/INSERT/UPDATE/DELETE/MERGE (PostgreSQL's "utility statement"). */
        UTILITY,
        /** Command TRANSACTION. */
        TRANSACTION_CONTROL,
        /** A WITH clause holds INSERT, UPDATE, DELETE or MERGE. */
        DATA_MODIFYING_CTE,
        /** COPY to or from a file on the server. */
        COPY_FILE,
        /** COPY to or from a program on the server. */
        COPY_PROGRAM,
        /**
         * Applies to relations that the statement does not name: VACUUM, ANALYZE, CLUSTER
         * without a table, REINDEX SCHEMA/DATABASE/SYSTEM, GRANT ... ON ALL TABLES IN SCHEMA.
         */
        ALL_RELATIONS
    }

    public StatementAnalysis {
        Objects.requireNonNull(command, "command");
        commands = commands.isEmpty() ? Set.of() : java.util.Collections.unmodifiableSet(EnumSet.copyOf(commands));
        relations = List.copyOf(relations);
        functions = List.copyOf(functions);
        flags = flags.isEmpty() ? Set.of() : java.util.Collections.unmodifiableSet(EnumSet.copyOf(flags));
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(preparedStatement, "preparedStatement");
    }

    public boolean has(Flag flag) {
        return flags.contains(flag);
    }

    /** Whether any relation is written. */
    public boolean writes() {
        return relations.stream().anyMatch(r -> r.access() == Access.WRITE);
    }
}
