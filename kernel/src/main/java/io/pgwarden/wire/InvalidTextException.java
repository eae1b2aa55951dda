package io.pgwarden.wire;

/**
 * Statement text that is not valid UTF-8. Not a protocol violation: PostgreSQL answers such a
 * statement with an ERROR (22021) and the session goes on, and so does the gateway.
 */
public final class InvalidTextException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidTextException() {
        super("invalid byte sequence for encoding \"UTF8\"", null, false, false);
    }
}
