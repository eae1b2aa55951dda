package io.pgwarden.plugins.oidc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OidcAuthenticatorFactoryTest {

    private static OidcSettings settings(Map<String, Object> extra) throws PluginConfigException {
        Map<String, Object> c = new HashMap<>(Map.of("type", "oidc", "issuer", "https://idp.example.com", "audience", "pgwarden"));
        c.putAll(extra);
        c.values().removeIf(v -> v == REMOVE);
        return OidcAuthenticatorFactory.settings(new PluginConfig("authenticators[2]", c));
    }

    private static final Object REMOVE = new Object();

    @Test
    void defaults() throws Exception {
        OidcSettings s = settings(Map.of());
        assertThat(s.issuer()).isEqualTo("https://idp.example.com");
        assertThat(s.audiences()).containsExactly("pgwarden");
        assertThat(s.nameClaim()).isEqualTo("sub");
        assertThat(s.groupsClaim()).isEqualTo("groups");
        assertThat(s.jwksUri()).isEmpty();
        assertThat(s.algorithms()).containsExactlyInAnyOrder(JWSAlgorithm.RS256, JWSAlgorithm.PS256, JWSAlgorithm.ES256,
                JWSAlgorithm.EdDSA);
        assertThat(s.clockSkew()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.maxTokenSize()).isEqualTo(32768);
        assertThat(s.jwksCacheTtl()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.discoveryUri()).hasToString("https://idp.example.com/.well-known/openid-configuration");
    }

    @Test
    void everyKeyIsRead() throws Exception {
        OidcSettings s = settings(Map.of("name", "corp", "audience", List.of("a", "b"), "name_claim", "preferred_username",
                "groups_claim", "realm_access.roles", "jwks_uri", "https://idp.example.com/keys",
                "allowed_algorithms", List.of("ES384", "RS512"), "clock_skew", "5s", "required_claims", List.of("jti"),
                "max_token_size", "64KiB", "jwks_cache_ttl", "1h"));
        assertThat(s.audiences()).containsExactlyInAnyOrder("a", "b");
        assertThat(s.groupsClaim()).isEqualTo("realm_access.roles");
        assertThat(s.jwksUri()).hasValueSatisfying(u -> assertThat(u).hasToString("https://idp.example.com/keys"));
        assertThat(s.algorithms()).containsExactlyInAnyOrder(JWSAlgorithm.ES384, JWSAlgorithm.RS512);
        assertThat(s.clockSkew()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.requiredClaims()).containsExactly("jti");
        assertThat(s.maxTokenSize()).isEqualTo(65536);
        assertThat(s.jwksCacheTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(settings(Map.of("max_token_size", 20000)).maxTokenSize()).isEqualTo(20000);
    }

    @Test
    void badValuesNameTheKeyPath() {
        assertThatThrownBy(() -> settings(Map.of("issuer", REMOVE)))
                .isInstanceOf(PluginConfigException.class).hasMessage("authenticators[2].issuer: is required");
        assertThatThrownBy(() -> settings(Map.of("audience", REMOVE)))
                .hasMessageStartingWith("authenticators[2].audience: is required");
        assertThatThrownBy(() -> settings(Map.of("audience", List.of())))
                .hasMessageStartingWith("authenticators[2].audience: is required");
        assertThatThrownBy(() -> settings(Map.of("issuer", "idp.example.com")))
                .hasMessageStartingWith("authenticators[2].issuer: must be an https://");
        assertThatThrownBy(() -> settings(Map.of("jwks_uri", "ftp://x/keys")))
                .hasMessageStartingWith("authenticators[2].jwks_uri: must be an https://");
        assertThatThrownBy(() -> settings(Map.of("allowed_algorithms", List.of("RS256", "none"))))
                .hasMessageStartingWith("authenticators[2].allowed_algorithms[1]: \"none\" is never accepted");
        assertThatThrownBy(() -> settings(Map.of("allowed_algorithms", List.of("HS256"))))
                .hasMessageStartingWith("authenticators[2].allowed_algorithms[0]: HMAC algorithms are refused");
        assertThatThrownBy(() -> settings(Map.of("allowed_algorithms", List.of("RS257"))))
                .hasMessageStartingWith("authenticators[2].allowed_algorithms[0]: unknown algorithm \"RS257\"");
        assertThatThrownBy(() -> settings(Map.of("allowed_algorithms", List.of())))
                .hasMessageStartingWith("authenticators[2].allowed_algorithms: must name at least one");
        assertThatThrownBy(() -> settings(Map.of("clock_skew", "thirty")))
                .hasMessageStartingWith("authenticators[2].clock_skew: must be a duration");
        assertThatThrownBy(() -> settings(Map.of("clock_skew", "1h")))
                .hasMessageStartingWith("authenticators[2].clock_skew: must be at most 5m");
        assertThatThrownBy(() -> settings(Map.of("jwks_cache_ttl", "10s")))
                .hasMessageStartingWith("authenticators[2].jwks_cache_ttl: must be at least 1m");
        assertThatThrownBy(() -> settings(Map.of("max_token_size", "2GiB")))
                .hasMessageStartingWith("authenticators[2].max_token_size: must be a size");
        assertThatThrownBy(() -> settings(Map.of("max_token_size", 100)))
                .hasMessageStartingWith("authenticators[2].max_token_size: must be between 1KiB and 1MiB");
        assertThatThrownBy(() -> settings(Map.of("groups_claim", "realm_access..roles")))
                .hasMessageStartingWith("authenticators[2].groups_claim: must be a claim name or a dotted path");
        assertThatThrownBy(() -> settings(Map.of("required_claims", "jti")))
                .hasMessageStartingWith("authenticators[2].required_claims: must be a list of strings");
        assertThatThrownBy(() -> settings(Map.of("audiance", "x")))
                .hasMessageStartingWith("authenticators[2].audiance: unknown key");
    }
}
