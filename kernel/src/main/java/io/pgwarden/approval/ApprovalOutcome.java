package io.pgwarden.approval;

import io.pgwarden.policy.Verdict;

/**
 * How a hold ended, for the waiting session: the statement runs, or is refused with an
 * error whose text is written here for the client (request ids, who decided, the reason
 * they gave; nothing internal).
 */
public sealed interface ApprovalOutcome {

    /** The verdict the held statement is finally decided with (an allowed one keeps its masking). */
    Verdict verdict(Verdict.Held held);

    /** For the statement's audit record: why it ran (null when no person was asked). */
    String auditNote();

    /** No rule applies after all (a row estimate under every threshold): the statement runs. */
    record NotNeeded(String why) implements ApprovalOutcome {
        @Override
        public Verdict verdict(Verdict.Held held) {
            return new Verdict.Allowed(held.summary(), held.mask());
        }

        @Override
        public String auditNote() {
            return why;
        }
    }

    record Approved(String requestId, String by, String via, String reason, boolean ticket) implements ApprovalOutcome {
        @Override
        public Verdict verdict(Verdict.Held held) {
            return new Verdict.Allowed(held.summary(), held.mask());
        }

        @Override
        public String auditNote() {
            return (ticket ? "approval ticket " : "approval request ") + requestId + " approved by " + by + " via " + via
                    + (reason == null || reason.isBlank() ? "" : ": " + reason);
        }
    }

    /**
     * @param status   DENIED, TIMED_OUT or WITHDRAWN; PENDING for a ticket issued or still open
     * @param sqlState 42501, or 57014 for a withdrawal (what PostgreSQL answers a cancel with)
     */
    record Refused(String requestId, ApprovalStatus status, String sqlState, String message, String detail, String hint,
                   String auditReason) implements ApprovalOutcome {
        @Override
        public Verdict verdict(Verdict.Held held) {
            return new Verdict.Refused(held.summary(), sqlState, message, detail, hint, auditReason);
        }

        @Override
        public String auditNote() {
            return null;
        }
    }
}
