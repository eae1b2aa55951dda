package io.pgwarden.wire;

/** A message header announces more bytes than the configured limit; nothing of its body was accepted. */
public final class MessageTooLargeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long limit;

    public MessageTooLargeException(long limit) {
        super("message larger than " + limit + " bytes", null, false, false);
        this.limit = limit;
    }

    public long limit() {
        return limit;
    }
}
