package io.pgwarden.approval;

import io.pgwarden.policy.Verdict;
import java.util.List;

/**
 * A statement the policy allowed but an approval rule holds, with who sent it.
 *
 * @param text      the text as the audit trail stores it (literals replaced with
 *                  {@code audit.redact_literals}): what approvers see
 * @param rawText   the text as sent: tickets are redeemed by it
 * @param upstream  the upstream it would run on (for row estimates)
 */
public record HeldStatement(String sessionId, String identity, List<String> groups, String clientAddress, String database,
                            String upstream, String text, String rawText, Verdict.Held verdict) {
    public HeldStatement {
        groups = List.copyOf(groups);
    }
}
