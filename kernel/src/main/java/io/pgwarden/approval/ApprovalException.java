package io.pgwarden.approval;

/** A decision that cannot be made; the message says why, for the approver (no internals). */
public final class ApprovalException extends Exception {
    /** What the admin API answers: 404 for an unknown request, 409 for one already decided, 403 for self-approval. */
    private final int status;

    public ApprovalException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
