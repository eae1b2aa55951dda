package io.pgwarden.plugins.oidc;

/** The issuer's keys cannot be located; the message names the URL and the problem. */
final class DiscoveryException extends Exception {
    private static final long serialVersionUID = 1L;

    DiscoveryException(String message) {
        super(message);
    }
}
