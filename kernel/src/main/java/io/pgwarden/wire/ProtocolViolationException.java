package io.pgwarden.wire;

/**
 * Bytes that are not a valid PostgreSQL protocol message. The session answers with FATAL
 * 08P01 and closes only the offending connection. The message is safe to show a client:
 * it describes the framing problem, never content.
 */
public final class ProtocolViolationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean unsupportedVersion;

    public ProtocolViolationException(String message) {
        this(message, false);
    }

    private ProtocolViolationException(String message, boolean unsupportedVersion) {
        super(message, null, false, false);
        this.unsupportedVersion = unsupportedVersion;
    }

    /** A protocol version the gateway does not speak: PostgreSQL answers these with 0A000, not 08P01. */
    public static ProtocolViolationException unsupportedVersion(String message) {
        return new ProtocolViolationException(message, true);
    }

    public boolean unsupportedVersion() {
        return unsupportedVersion;
    }
}
