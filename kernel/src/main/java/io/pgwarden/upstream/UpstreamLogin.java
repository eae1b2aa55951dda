package io.pgwarden.upstream;

import io.pgwarden.vault.Secret;

/**
 * Who to log in to an upstream as, for one connection: the gateway's own credential or a
 * session's just-in-time role. The connector wipes the password when the login ends.
 */
public record UpstreamLogin(String user, Secret password) {
}
