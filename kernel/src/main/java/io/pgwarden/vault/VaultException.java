package io.pgwarden.vault;

/**
 * The vault cannot be unlocked, read or written. The message is for the operator and
 * never contains a secret or key material.
 */
public final class VaultException extends Exception {
    private static final long serialVersionUID = 1L;

    public VaultException(String message) {
        super(message);
    }

    public VaultException(String message, Throwable cause) {
        super(message, cause);
    }
}
