package io.pgwarden.upstream;

import io.pgwarden.vault.Secret;

/**
 * Where an upstream credential's password comes from ({@code password_ref},
 * {@code password_env} or {@code password}): asked afresh for every login, so that a vault
 * secret is decrypted only while a login needs it.
 */
@FunctionalInterface
public interface PasswordSource {
    /** A new copy of the password, which the caller wipes. */
    Secret open() throws UpstreamException;
}
