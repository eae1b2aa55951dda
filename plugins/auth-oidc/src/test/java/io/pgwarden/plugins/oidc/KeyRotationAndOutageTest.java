package io.pgwarden.plugins.oidc;

import static io.pgwarden.plugins.oidc.OidcAssertions.accepted;
import static io.pgwarden.plugins.oidc.OidcAssertions.create;
import static io.pgwarden.plugins.oidc.OidcAssertions.rejected;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginContext;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Keys change and providers go down: against a JWKS endpoint the test controls. */
class KeyRotationAndOutageTest {
    private static final String AUDIENCE = "pgwarden";

    private static Authenticator authenticatorFor(TestJwks idp) throws Exception {
        return create(Map.of("type", "oidc", "issuer", idp.issuer(), "audience", AUDIENCE));
    }

    @Test
    void aRotatedKeyIsPickedUpWithoutARestartAndTheRetiredOneStopsWorking() throws Exception {
        try (TestJwks idp = new TestJwks(); Authenticator auth = authenticatorFor(idp)) {
            RSAKey first = TestJwks.newKey("2026-01");
            idp.publish(first, true);
            assertThat(accepted(auth, idp.sign(first, AUDIENCE, b -> { })).name()).isEqualTo("agent-1");
            assertThat(idp.jwksFetches()).isEqualTo(1);

            RSAKey second = TestJwks.newKey("2026-02");
            idp.publish(second, true);
            assertThat(accepted(auth, idp.sign(second, AUDIENCE, b -> { })).name()).isEqualTo("agent-1");
            assertThat(idp.jwksFetches()).isEqualTo(2);

            assertThat(rejected(auth, idp.sign(first, AUDIENCE, b -> { }))).startsWith("unknown key");
        }
    }

    @Test
    void duringAnOutageCachedKeysKeepWorkingAndNewKeysFailClosed() throws Exception {
        try (TestJwks idp = new TestJwks(); Authenticator auth = authenticatorFor(idp)) {
            RSAKey key = TestJwks.newKey("k1");
            idp.publish(key, true);
            accepted(auth, idp.sign(key, AUDIENCE, b -> { }));

            idp.stop();

            assertThat(accepted(auth, idp.sign(key, AUDIENCE, b -> b.subject("agent-2"))).name()).isEqualTo("agent-2");
            String reason = rejected(auth, idp.sign(TestJwks.newKey("k2"), AUDIENCE, b -> { }));
            assertThat(reason).matches("(unknown key|keys unavailable).*");
        }
    }

    @Test
    void notBeforeAndExpiryAllowTheConfiguredSkewOnly() throws Exception {
        try (TestJwks idp = new TestJwks(); Authenticator auth = authenticatorFor(idp)) {
            RSAKey key = TestJwks.newKey("k1");
            idp.publish(key, true);
            Instant now = Instant.now();

            assertThat(rejected(auth, idp.sign(key, AUDIENCE, b -> b.notBeforeTime(Date.from(now.plusSeconds(120))))))
                    .startsWith("not yet valid: nbf is in the future");
            accepted(auth, idp.sign(key, AUDIENCE, b -> b.notBeforeTime(Date.from(now.plusSeconds(10)))));
            accepted(auth, idp.sign(key, AUDIENCE, b -> b.expirationTime(Date.from(now.minusSeconds(10)))));
            assertThat(rejected(auth, idp.sign(key, AUDIENCE, b -> b.expirationTime(Date.from(now.minusSeconds(60))))))
                    .startsWith("expired");
            assertThat(rejected(auth, idp.sign(key, AUDIENCE, b -> b.expirationTime(null))))
                    .startsWith("required claims").contains("exp");
        }
    }

    @Test
    void ed25519TokensVerifyWithTheJdkAndAForgedOneDoesNot() throws Exception {
        try (TestJwks idp = new TestJwks(); Authenticator auth = authenticatorFor(idp)) {
            java.security.KeyPair pair = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            idp.publish(TestJwks.ed25519Jwk(pair, "ed-1"), true);
            idp.publish(TestJwks.newKey("rsa-1"), false);

            assertThat(accepted(auth, idp.signEd25519(pair, "ed-1", AUDIENCE)).name()).isEqualTo("ed-agent");

            java.security.KeyPair other = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            assertThat(rejected(auth, idp.signEd25519(other, "ed-1", AUDIENCE))).startsWith("signature");
            assertThat(rejected(auth, idp.signEd25519(pair, "ed-1", "someone-else"))).startsWith("audience");

            try (Authenticator rsaOnly = create(Map.of("type", "oidc", "issuer", idp.issuer(), "audience", AUDIENCE,
                    "allowed_algorithms", java.util.List.of("RS256")))) {
                assertThat(rejected(rsaOnly, idp.signEd25519(pair, "ed-1", AUDIENCE)))
                        .startsWith("algorithm EdDSA is not in allowed_algorithms");
            }
            try (Authenticator edOnly = create(Map.of("type", "oidc", "issuer", idp.issuer(), "audience", AUDIENCE,
                    "allowed_algorithms", java.util.List.of("EdDSA")))) {
                accepted(edOnly, idp.signEd25519(pair, "ed-1", AUDIENCE));
                assertThat(rejected(edOnly, idp.sign(TestJwks.newKey("rsa-1"), AUDIENCE, b -> { })))
                        .startsWith("algorithm RS256 is not in allowed_algorithms");
            }
        }
    }

    @Test
    void timeComesFromTheGatewaysClock() throws Exception {
        try (TestJwks idp = new TestJwks()) {
            RSAKey key = TestJwks.newKey("k1");
            idp.publish(key, true);
            Clock tenMinutesLater = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(10));
            try (Authenticator auth = new OidcAuthenticatorFactory().create(
                    new PluginConfig("authenticators[0]", Map.of("type", "oidc", "issuer", idp.issuer(), "audience", AUDIENCE)),
                    new PluginContext("authenticators[0]", tenMinutesLater, Path.of(".")))) {
                assertThat(rejected(auth, idp.sign(key, AUDIENCE, b -> { }))).startsWith("expired");
            }
        }
    }
}
