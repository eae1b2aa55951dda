package io.pgwarden.analysis;

import java.util.Objects;

/**
 * A relation (table, view, materialized view, sequence, index, foreign table, partition) that
 * a statement names, as written: {@code schema} is null when the name is unqualified and must
 * be resolved through the session's search_path by the caller ({@code pg_temp} first, as
 * PostgreSQL does for relations). Names are as PostgreSQL's parser produced them: unquoted
 * identifiers folded to lower case, quoted ones exact ({@code "Public"."T"} is Public / T).
 * A temporary relation created by the statement has schema {@code pg_temp}.
 */
public record RelationRef(String schema, String name, Access access) {

    public RelationRef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(access, "access");
    }

    /** {@code schema.name}, or {@code name} when unqualified. */
    public String qualifiedName() {
        return schema == null ? name : schema + "." + name;
    }

    @Override
    public String toString() {
        return qualifiedName() + " (" + access + ")";
    }
}
