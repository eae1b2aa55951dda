package io.pgwarden.plugins.statickeys;

import io.pgwarden.plugin.api.AuthenticationResult;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.Credentials;
import io.pgwarden.plugin.api.Identity;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;

/**
 * Matches the presented secret's SHA-256 digest against every configured digest. Each
 * comparison is constant-time and all keys are compared on every attempt, so the time an
 * attempt takes says nothing about how close a guess came or which key it was near.
 * Failed attempts are rate-limited per client address by the gateway, for every
 * authenticator alike.
 */
final class StaticKeysAuthenticator implements Authenticator {
    static final String ISSUER = "pgwarden:static-keys";

    private final List<AgentKey> keys;

    StaticKeysAuthenticator(List<AgentKey> keys) {
        this.keys = List.copyOf(keys);
    }

    @Override
    public AuthenticationResult authenticate(Credentials credentials) {
        byte[] presented = sha256(credentials.secret());
        AgentKey match = null;
        for (AgentKey key : keys) {
            if (MessageDigest.isEqual(key.sha256(), presented) && match == null) {
                match = key;
            }
        }
        if (match == null) {
            return AuthenticationResult.rejected("the secret matches no configured key");
        }
        // A key belongs to one agent: the user name must say which, so that a key copied to
        // another agent's configuration is refused rather than silently acting as its owner.
        if (!match.name().equals(credentials.userName())) {
            return AuthenticationResult.rejected("the key belongs to \"" + match.name()
                    + "\" but the connection's user name is \"" + credentials.userName() + "\"");
        }
        return AuthenticationResult.accepted(new Identity(match.name(), ISSUER, match.groups(), Map.of()));
    }

    private static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }
}
