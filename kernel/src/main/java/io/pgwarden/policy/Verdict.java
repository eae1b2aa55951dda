package io.pgwarden.policy;

import java.util.List;

/**
 * What the gateway decided about one statement text (a simple Query, which may hold several
 * statements, or a Parse), with what the audit records of it. A refusal carries the text a
 * client may read: written by the policy layer for the client, never internal detail.
 */
public sealed interface Verdict {

    Summary summary();

    /**
     * @param commands    the command of each statement, e.g. [SELECT] or [BEGIN, UPDATE, COMMIT]
     * @param relations   every relation read or written, schema-qualified as resolved
     * @param functions   every function called, schema-qualified as written
     * @param fingerprint libpg_query's fingerprint: equal for statements that differ only in literals
     */
    record Summary(List<String> commands, List<String> relations, List<String> functions, String fingerprint) {
        public Summary {
            commands = List.copyOf(commands);
            relations = List.copyOf(relations);
            functions = List.copyOf(functions);
        }

        public static final Summary NONE = new Summary(List.of(), List.of(), List.of(), null);
    }

    /** @param mask what the statements' results may carry, for the relay to mask (DESIGN §7) */
    record Allowed(Summary summary, io.pgwarden.masking.ResultMask.Plan mask) implements Verdict {
        public Allowed(Summary summary) {
            this(summary, io.pgwarden.masking.ResultMask.Plan.NONE);
        }

        public Allowed {
            java.util.Objects.requireNonNull(mask, "mask");
        }
    }

    /**
     * Allowed by the policy, but approval rules matched (DESIGN §8): the statement runs only
     * once a person approves. The first rule whose conditions all hold applies; a rule with
     * {@code estimated_rows_over} holds only when the estimate says so.
     *
     * @param rules the matching rules, in configured order
     */
    /** @param mask what the statements' results may carry, once they run (DESIGN §7) */
    record Held(Summary summary, List<ApprovalMatch> rules, io.pgwarden.masking.ResultMask.Plan mask) implements Verdict {
        public Held(Summary summary, List<ApprovalMatch> rules) {
            this(summary, rules, io.pgwarden.masking.ResultMask.Plan.NONE);
        }

        public Held {
            rules = List.copyOf(rules);
            java.util.Objects.requireNonNull(mask, "mask");
        }
    }

    /**
     * @param sqlState 42501 for a policy refusal, 42601 for text that does not parse
     * @param reason   one line for the audit trail and the operator's log
     */
    record Refused(Summary summary, String sqlState, String message, String detail, String hint, String reason)
            implements Verdict {
    }
}
