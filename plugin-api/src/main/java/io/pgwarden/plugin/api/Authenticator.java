package io.pgwarden.plugin.api;

/**
 * One configured authenticator instance, made by its {@link AuthenticatorFactory}.
 *
 * <p>{@link #authenticate} is called on a virtual thread, never on the gateway's network
 * threads, so it may block (an HTTP request for keys, a directory lookup). It must be safe
 * to call concurrently. It must not throw for a bad credential: that is a {@code Rejected}.
 * An exception is treated as a rejection and logged as an authenticator fault.
 */
public interface Authenticator extends AutoCloseable {

    AuthenticationResult authenticate(Credentials credentials);

    /** Releases what the instance holds (threads, caches); called once at gateway shutdown. */
    @Override
    default void close() {
    }
}
