package io.pgwarden.policy;

import io.pgwarden.config.GatewayConfig.ApprovalMode;
import java.time.Duration;
import java.util.List;

/**
 * An approval rule that matched a statement (DESIGN §8): what the approval service needs to
 * open a request, without looking at the policy again.
 *
 * @param rule              where the rule is configured, e.g. {@code policies[0].approve[1]}
 * @param why               what matched, for approvers and the audit trail, e.g. "DELETE without WHERE on public.t"
 * @param approvers         approver instances to notify (by name)
 * @param estimatedRowsOver the rule also needs the planner's estimate above this; -1 when it does not
 * @param toEstimate        the statements whose estimate counts (their texts), when estimatedRowsOver is set
 */
public record ApprovalMatch(String rule, String why, List<String> approvers, Duration timeout, ApprovalMode mode,
                            Duration validity, long estimatedRowsOver, List<String> toEstimate) {
    public ApprovalMatch {
        approvers = List.copyOf(approvers);
        toEstimate = List.copyOf(toEstimate);
    }

    public boolean needsEstimate() {
        return estimatedRowsOver >= 0;
    }
}
