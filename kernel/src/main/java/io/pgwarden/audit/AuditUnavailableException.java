package io.pgwarden.audit;

/**
 * The audit log could not record something durably: its store failed, its queue is full,
 * or it is closed. A session that gets this for an intent must refuse the statement (fail
 * closed); the operator's log already has a line saying why.
 */
public final class AuditUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public AuditUnavailableException(String message) {
        super(message);
    }

    public AuditUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
