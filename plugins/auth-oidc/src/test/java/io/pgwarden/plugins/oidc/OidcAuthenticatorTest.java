package io.pgwarden.plugins.oidc;

import static io.pgwarden.plugins.oidc.OidcAssertions.accepted;
import static io.pgwarden.plugins.oidc.OidcAssertions.create;
import static io.pgwarden.plugins.oidc.OidcAssertions.rejected;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.Identity;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tokens minted by a real OIDC provider (mock-oauth2-server, in-process on a free port),
 * checked through discovery and its JWKS; then each attack of issue 3.
 */
class OidcAuthenticatorTest {
    private static final String AUDIENCE = "pgwarden";
    private static MockOAuth2Server idp;
    private static Authenticator auth;

    @BeforeAll
    static void start() throws Exception {
        idp = new MockOAuth2Server();
        idp.start();
        auth = create(config(Map.of()));
    }

    @AfterAll
    static void stop() {
        auth.close();
        idp.shutdown();
    }

    static String issuer(String id) {
        return idp.issuerUrl(id).toString();
    }

    private static Map<String, Object> config(Map<String, Object> extra) {
        Map<String, Object> c = new HashMap<>(Map.of("type", "oidc", "issuer", issuer("agents"), "audience", AUDIENCE,
                // The in-process provider's first answer can take seconds on a loaded CI machine.
                "http_timeout", "30s"));
        c.putAll(extra);
        return c;
    }

    private static String token(String issuerId, List<String> audience, Map<String, Object> claims, long expirySeconds) {
        return idp.issueToken(issuerId, "client-1",
                new DefaultOAuth2TokenCallback(issuerId, "agent-7", "JWT", audience, claims, expirySeconds)).serialize();
    }

    private static String token(Map<String, Object> claims) {
        return token("agents", List.of(AUDIENCE), claims, 300);
    }

    @Test
    void aValidTokenGivesNameIssuerGroupsAndClaims() {
        Identity id = accepted(auth, token(Map.of("groups", List.of("testers", "loaders"))));

        assertThat(id.name()).isEqualTo("agent-7");
        assertThat(id.issuer()).isEqualTo(issuer("agents"));
        assertThat(id.groups()).containsExactlyInAnyOrder("testers", "loaders");
        assertThat(id.claims()).containsEntry("sub", "agent-7").containsEntry("aud", AUDIENCE)
                .containsKeys("exp", "iat", "jti");
        assertThat(id.claims().get("exp")).isInstanceOf(Long.class);
    }

    @Test
    void groupsFromANestedPathAndNameFromAnotherClaim() throws Exception {
        try (Authenticator keycloakStyle = create(config(Map.of("groups_claim", "realm_access.roles",
                "name_claim", "azp_name", "required_claims", List.of("azp_name"))))) {
            Identity id = accepted(keycloakStyle, token(Map.of("azp_name", "reporting-bot",
                    "realm_access", Map.of("roles", List.of("analytics", "readers")))));
            assertThat(id.name()).isEqualTo("reporting-bot");
            assertThat(id.groups()).containsExactlyInAnyOrder("analytics", "readers");

            assertThat(rejected(keycloakStyle, token(Map.of()))).startsWith("required claims");
        }
    }

    @Test
    void groupsFromASpaceDelimitedScope() throws Exception {
        try (Authenticator scoped = create(config(Map.of("groups_claim", "scope")))) {
            Identity id = accepted(scoped, token(Map.of("scope", "db:read  db:write")));
            assertThat(id.groups()).containsExactlyInAnyOrder("db:read", "db:write");
        }
    }

    @Test
    void tokensOfSixteenKilobytesAndMoreAreAcceptedUpToTheLimit() throws Exception {
        Identity id = accepted(auth, token(Map.of("padding", "x".repeat(20_000))));
        assertThat(id.name()).isEqualTo("agent-7");

        String huge = token(Map.of("padding", "x".repeat(40_000)));
        assertThat(rejected(auth, huge)).startsWith("token too large").contains("limit max_token_size 32768");

        try (Authenticator small = create(config(Map.of("max_token_size", "1KiB")))) {
            assertThat(rejected(small, token(Map.of("padding", "x".repeat(2_000))))).startsWith("token too large");
        }
    }

    @Test
    void aTokenForAnotherAudienceIsRefused() {
        assertThat(rejected(auth, token("agents", List.of("some-other-api"), Map.of(), 300)))
                .isEqualTo("audience: the token's aud contains none of [pgwarden]");
    }

    @Test
    void aTokenOfAnotherIssuerIsLeftForAnotherAuthenticator() {
        assertThat(rejected(auth, token("elsewhere", List.of(AUDIENCE), Map.of(), 300)))
                .isEqualTo("issuer \"" + issuer("elsewhere") + "\" not configured here (this authenticator takes "
                        + issuer("agents") + ")");
    }

    @Test
    void anExpiredTokenIsRefused() {
        assertThat(rejected(auth, token("agents", List.of(AUDIENCE), Map.of(), -120))).startsWith("expired");
    }

    @Test
    void aTokenWithATamperedPayloadIsRefused() {
        String[] parts = token(Map.of("groups", List.of("readers"))).split("\\.");
        String payload = new String(Base64URL.from(parts[1]).decode(), StandardCharsets.UTF_8)
                .replace("readers", "admins");
        String forged = parts[0] + "." + Base64URL.encode(payload.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertThat(rejected(auth, forged)).startsWith("signature");

        // A single flipped character of the encoded payload, as a bit flip in transit would.
        char[] chars = parts[1].toCharArray();
        chars[10] = chars[10] == 'A' ? 'B' : 'A';
        String flipped = parts[0] + "." + new String(chars) + "." + parts[2];
        assertThat(rejected(auth, flipped)).matches("(signature|malformed).*");
    }

    @Test
    void anUnsignedTokenIsRefused() {
        String[] parts = token(Map.of()).split("\\.");
        String header = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)).toString();
        assertThat(rejected(auth, header + "." + parts[1] + ".")).startsWith("algorithm: unsigned token (alg none)");
        assertThat(rejected(auth, header + "." + parts[1] + "." + parts[2])).startsWith("algorithm: unsigned token");
    }

    @Test
    void hs256SignedWithTheIssuersPublicKeyIsRefused() throws Exception {
        RSAKey published = (RSAKey) JWKSet.load(idp.jwksUrl("agents").url()).getKeys().getFirst();
        JWTClaimsSet claims = SignedJWT.parse(token(Map.of())).getJWTClaimsSet();
        SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(published.getKeyID()).build(), claims);
        forged.sign(new MACSigner(published.toRSAPublicKey().getEncoded()));

        assertThat(rejected(auth, forged.serialize())).startsWith("algorithm HS256 is not in allowed_algorithms");
    }

    @Test
    void aTokenSignedWithAKeyTheIssuerNeverPublishedIsRefused() throws Exception {
        RSAKey own = TestJwks.newKey("attacker-key");
        JWTClaimsSet claims = SignedJWT.parse(token(Map.of())).getJWTClaimsSet();
        SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(own.getKeyID()).build(), claims);
        forged.sign(new com.nimbusds.jose.crypto.RSASSASigner(own));

        assertThat(rejected(auth, forged.serialize())).startsWith("unknown key");

        // The same key under the kid the issuer does publish: the signature is what fails.
        RSAKey published = (RSAKey) JWKSet.load(idp.jwksUrl("agents").url()).getKeys().getFirst();
        SignedJWT impostor = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(published.getKeyID()).build(), claims);
        impostor.sign(new com.nimbusds.jose.crypto.RSASSASigner(own));
        assertThat(rejected(auth, impostor.serialize())).startsWith("signature");
    }

    @Test
    void garbageIsRefusedAsMalformed() {
        assertThat(rejected(auth, "")).startsWith("malformed");
        assertThat(rejected(auth, "hunter2")).startsWith("malformed");
        assertThat(rejected(auth, "a.b.c")).startsWith("malformed");
        assertThat(rejected(auth, "not a token at all.with spaces.and more")).startsWith("malformed");
        assertThat(rejected(auth, "eyJhbGciOiJSUzI1NiJ9.e30.sig.extra")).startsWith("malformed");
        assertThat(rejected(auth, "e30.e30.e30")).startsWith("malformed");
    }

    @Test
    void discoveryRequiresTheDocumentsIssuerToBeTheConfiguredOne() throws Exception {
        // The configured issuer differs from what the document at its well-known path says.
        String lookalike = issuer("agents") + "/";
        try (Authenticator wrong = create(config(Map.of("issuer", lookalike)))) {
            String token = idp.issueToken("agents", "client-1", new DefaultOAuth2TokenCallback("agents", "agent-7", "JWT",
                    List.of(AUDIENCE), Map.of("iss", lookalike), 300)).serialize();
            assertThat(rejected(wrong, token)).contains("does not equal the configured issuer");
        }
    }

    @Test
    void aPinnedJwksUriNeedsNoDiscovery() throws Exception {
        try (Authenticator pinned = create(config(Map.of("jwks_uri", idp.jwksUrl("agents").toString())))) {
            assertThat(accepted(pinned, token(Map.of())).name()).isEqualTo("agent-7");
        }
    }

    @Test
    void anUnreachableIssuerIsARefusalNamingTheUrlNotAFault() throws Exception {
        try (TestJwks gone = new TestJwks()) {
            String issuer = gone.issuer();
            RSAKey key = TestJwks.newKey("k");
            String token = gone.sign(key, AUDIENCE, b -> { });
            gone.stop();
            try (Authenticator down = create(config(Map.of("issuer", issuer)))) {
                assertThat(rejected(down, token)).startsWith("OIDC discovery at " + issuer + "/.well-known/openid-configuration failed");
                assertThat(rejected(down, token)).contains("not retried for");
            }
        }
    }
}
