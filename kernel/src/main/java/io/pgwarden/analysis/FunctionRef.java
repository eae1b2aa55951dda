package io.pgwarden.analysis;

import java.util.Objects;

/**
 * A function or procedure that a statement calls by name, as written ({@code schema} null when
 * unqualified). Includes calls in every position (select list, WHERE, FROM, DEFAULT and CHECK
 * expressions of DDL, arguments of EXECUTE, CALL) and the functions that SQL syntax stands for
 * ({@code EXTRACT(...)} is {@code pg_catalog.extract}, {@code SUBSTRING(x FROM y)} is
 * {@code pg_catalog.substring}). Not listed: operators (which run functions too), type-name
 * casts such as {@code '1'::int} or {@code int '1'}, and functions run implicitly by triggers,
 * defaults, views or rules. {@code name(x)} is always listed, even where PostgreSQL resolves
 * it as a cast to type {@code name}.
 */
public record FunctionRef(String schema, String name) {

    public FunctionRef {
        Objects.requireNonNull(name, "name");
    }

    public String qualifiedName() {
        return schema == null ? name : schema + "." + name;
    }

    @Override
    public String toString() {
        return qualifiedName();
    }
}
