package io.pgwarden.tls;

/** TLS material is missing or unusable; start-up stops with this message. */
public final class TlsSetupException extends Exception {
    private static final long serialVersionUID = 1L;

    public TlsSetupException(String message) {
        super(message);
    }
}
