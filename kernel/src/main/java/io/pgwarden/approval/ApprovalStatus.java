package io.pgwarden.approval;

/** Where an approval request stands. */
public enum ApprovalStatus {
    /** Approvers were told; nobody decided yet. */
    PENDING,
    /** Approved: in hold mode the statement ran; in ticket mode it may run once until the validity ends. */
    APPROVED,
    /** A ticket's approval was used by the statement it approved. */
    USED,
    DENIED,
    TIMED_OUT,
    /** The client cancelled or disconnected while its statement waited. */
    WITHDRAWN
}
