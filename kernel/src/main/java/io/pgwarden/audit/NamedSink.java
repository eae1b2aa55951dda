package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditSink;

/**
 * A configured sink instance and its name: the entry's {@code name}, or its {@code type}
 * when it has none. The name keys the sink's delivery position in the store, so renaming a
 * sink makes it start again from the first event.
 */
public record NamedSink(String name, String instance, AuditSink sink) {
}
