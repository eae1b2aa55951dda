package io.pgwarden.approval;

import io.pgwarden.config.GatewayConfig.ApprovalMode;
import io.pgwarden.plugin.api.ApprovalRequest;
import java.time.Instant;
import java.util.List;

/**
 * An approval request and what became of it, as the admin API and the CLI show it. A
 * snapshot: immutable.
 *
 * @param decidedBy  who decided (an admin's name, an e-mail recipient); for a timeout or a
 *                   withdrawal, "pgwarden" or "the client"
 * @param decidedVia how: {@code cli}, {@code web}, the approver instance of a link
 * @param validUntil ticket mode: until when an approval may be used
 */
public record ApprovalRecord(ApprovalRequest request, List<String> approvers, ApprovalMode mode, ApprovalStatus status,
                             String decidedBy, String decidedVia, Instant decidedAt, String decisionReason,
                             Instant validUntil) {
    public ApprovalRecord {
        approvers = List.copyOf(approvers);
    }

    public String id() {
        return request.id();
    }
}
