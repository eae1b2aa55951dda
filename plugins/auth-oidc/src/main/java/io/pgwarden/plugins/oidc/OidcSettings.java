package io.pgwarden.plugins.oidc;

import com.nimbusds.jose.JWSAlgorithm;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One {@code type: oidc} entry, validated. Every field has been checked by
 * {@link OidcAuthenticatorFactory}; nothing here contacts the identity provider.
 *
 * @param issuer            the exact {@code iss} value this instance accepts
 * @param audiences         a token's {@code aud} must contain at least one of these
 * @param nameClaim         claim (dotted path) giving the identity's name
 * @param groupsClaim       claim (dotted path) giving group memberships: a JSON array or a
 *                          space-delimited string such as {@code scope}
 * @param jwksUri           a pinned JWKS location; empty means discover it from the issuer
 * @param algorithms        signature algorithms accepted (never {@code none}, never HMAC)
 * @param clockSkew         tolerance on {@code exp} and {@code nbf}
 * @param requiredClaims    claims that must be present
 * @param maxTokenSize      longest token accepted, in bytes
 * @param jwksCacheTtl      how long fetched keys are used before they are fetched again
 * @param httpTimeout       connect and read timeout of discovery and JWKS requests
 */
record OidcSettings(String issuer, Set<String> audiences, String nameClaim, String groupsClaim,
                    Optional<URI> jwksUri, Set<JWSAlgorithm> algorithms, Duration clockSkew,
                    Set<String> requiredClaims, int maxTokenSize, Duration jwksCacheTtl, Duration httpTimeout) {

    /** OpenID Connect Discovery 1.0 §4: the document sits under the issuer's path. */
    URI discoveryUri() {
        String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        return URI.create(base + "/.well-known/openid-configuration");
    }

    List<String> sortedAudiences() {
        return audiences.stream().sorted().toList();
    }
}
