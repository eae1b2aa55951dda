package io.pgwarden.policy;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The schemas an unqualified relation name of a session could resolve to. PostgreSQL
 * resolves it to the first schema of the effective search_path that holds it, and only the
 * server knows which that is; the gateway decides before the statement runs. So it keeps
 * every schema that may be on the path: the effective path the upstream reported at the
 * session's start, and every schema a {@code SET [LOCAL] search_path} named since. The set
 * only grows: a SET that fails, or one undone by ROLLBACK or at the end of a transaction
 * (LOCAL), cannot make the gateway check fewer schemas than PostgreSQL may use. A change the
 * gateway cannot read ({@code set_config()}) makes the path unknown: every schema is then
 * possible.
 *
 * <p>pg_catalog and the session's temporary schema are searched too (pg_temp first, for
 * relations); they are not in this set but always among the candidates.
 */
final class SearchPathTracker {
    private final Set<String> schemas = new LinkedHashSet<>();
    private final String user;
    private boolean unknown;
    /** Counts the changes of the set, so that decisions taken before one can be taken again. */
    private long generation;

    /**
     * @param initial the effective search_path at the session's start
     * @param user    the upstream role, which {@code "$user"} stands for
     */
    SearchPathTracker(List<String> initial, String user) {
        schemas.addAll(initial);
        this.user = user;
    }

    /**
     * A {@code SET search_path} to these values. Each value is one schema name exactly as
     * the parser produced it: PostgreSQL quotes every value of this list setting as an
     * identifier, so {@code SET search_path = 'a, b'} names the one schema "a, b", and
     * {@code "Sales"} keeps its case.
     */
    void set(List<String> values) {
        for (String schema : values) {
            if (schemas.add(schema.equals("$user") ? user : schema)) {
                generation++;
            }
        }
    }

    /** A change whose value the gateway cannot know. */
    void setUnknown() {
        if (!unknown) {
            unknown = true;
            generation++;
        }
    }

    long generation() {
        return generation;
    }

    boolean unknown() {
        return unknown;
    }

    Set<String> schemas() {
        return Collections.unmodifiableSet(schemas);
    }
}
