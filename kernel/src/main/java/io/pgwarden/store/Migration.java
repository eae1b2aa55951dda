package io.pgwarden.store;

import java.util.List;

/**
 * One step of a component's schema. H2 commits DDL as it runs it, so a step is not atomic:
 * write its statements so that running them again after an interruption does no harm
 * ({@code IF NOT EXISTS}).
 *
 * @param version     1, 2, 3, … per component, applied in order
 * @param description what the step does, kept in {@code schema_version}
 * @param statements  SQL statements, run in order
 */
public record Migration(int version, String description, List<String> statements) {
    public Migration {
        if (version < 1) {
            throw new IllegalArgumentException("migration versions start at 1");
        }
        statements = List.copyOf(statements);
    }
}
