package io.pgwarden.admin;

/** A CLI call to the admin API failed; the message is one sentence for the operator. */
public final class AdminClientException extends Exception {
    private final int status;

    public AdminClientException(String message) {
        this(message, 0);
    }

    public AdminClientException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The HTTP status the API answered with, or 0 when it was not reached. */
    public int status() {
        return status;
    }
}
