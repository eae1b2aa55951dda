package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditEvent;
import java.util.List;
import java.util.Objects;

/**
 * What the gateway knows about a statement before it forwards it (or refuses it).
 *
 * @param text        the text to store: choose it with {@link AuditLog#statementText}, which
 *                    honours {@code audit.redact_literals}
 * @param fingerprint identifies statements that differ only in literals; may be null
 * @param command     the command class (SELECT, INSERT, DDL, …); may be null
 * @param relations   relations read or written, as schema.table
 * @param decision    {@link AuditEvent.Decision#ALLOW}, {@link AuditEvent.Decision#DENY} or a later value
 * @param reason      why; may be null
 */
public record StatementIntent(String text, String fingerprint, String command, List<String> relations,
                              String decision, String reason) {
    public StatementIntent {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(decision, "decision");
        relations = relations == null ? List.of() : List.copyOf(relations);
    }

    public static StatementIntent allowed(String text) {
        return new StatementIntent(text, null, null, List.of(), AuditEvent.Decision.ALLOW, null);
    }
}
