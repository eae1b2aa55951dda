package io.pgwarden.server;

/** The gateway cannot start; the message says why in the operator's terms (key paths, files). */
public final class GatewayStartException extends Exception {
    private static final long serialVersionUID = 1L;

    public GatewayStartException(String message) {
        super(message);
    }

    public GatewayStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
