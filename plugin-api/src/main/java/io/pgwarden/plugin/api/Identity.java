package io.pgwarden.plugin.api;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who an agent is, as established by an {@link Authenticator} from a verified credential.
 * The gateway selects a policy from this and records it in every audit event; it never
 * trusts the PostgreSQL user name alone.
 *
 * @param name   the agent's stable name (a key's name, a token's subject or name claim)
 * @param issuer who vouched for the identity (an OIDC issuer URL, or the authenticator type)
 * @param groups group memberships used by policy matching
 * @param claims further verified attributes, for audit only
 */
public record Identity(String name, String issuer, Set<String> groups, Map<String, Object> claims) {
    public Identity {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(issuer, "issuer");
        if (name.isBlank()) {
            throw new IllegalArgumentException("identity name must not be blank");
        }
        groups = Set.copyOf(groups);
        claims = Map.copyOf(claims);
    }
}
