package io.pgwarden.admin;

/** The admin API could not be opened; the message is for the operator starting the gateway. */
public final class AdminStartException extends Exception {
    public AdminStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
