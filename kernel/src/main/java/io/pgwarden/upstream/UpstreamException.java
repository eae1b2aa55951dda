package io.pgwarden.upstream;

/**
 * Connecting or logging in to an upstream failed. The message is for the operator's log
 * (it may quote the upstream's own error); a client only ever sees
 * {@code ClientError.upstreamUnavailable}.
 */
public final class UpstreamException extends Exception {
    private static final long serialVersionUID = 1L;

    public UpstreamException(String message) {
        super(message);
    }

    public UpstreamException(String message, Throwable cause) {
        super(message, cause);
    }
}
