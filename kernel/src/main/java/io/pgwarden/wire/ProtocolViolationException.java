package io.pgwarden.wire;

/**
 * Bytes that are not a valid PostgreSQL protocol message. The session answers with FATAL
 * 08P01 and closes only the offending connection. The message is safe to show a client:
 * it describes the framing problem, never content.
 */
public final class ProtocolViolationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProtocolViolationException(String message) {
        super(message, null, false, false);
    }
}
