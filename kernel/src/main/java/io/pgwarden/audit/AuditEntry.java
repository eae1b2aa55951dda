package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditEvent;

/**
 * One row of {@link AuditReader#list}: a session event, or a statement joined with its
 * outcome.
 *
 * @param event         the event as a sink receives it; a statement still running has
 *                      outcome UNKNOWN and {@code pending} true
 * @param pending       the statement's outcome is not recorded yet (it is still running, or
 *                      the gateway that recorded it is stopped and has not restarted)
 * @param outcomeReason for an UNKNOWN outcome, why it is unknown; otherwise null
 */
public record AuditEntry(AuditEvent event, boolean pending, String outcomeReason) {
}
