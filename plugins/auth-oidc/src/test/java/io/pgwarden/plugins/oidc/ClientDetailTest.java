package io.pgwarden.plugins.oidc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What an agent is told about a refused token: the kind of problem, never the token. */
class ClientDetailTest {

    @Test
    void eachKindOfRefusalHasItsOwnSentence() {
        assertThat(OidcAuthenticator.clientDetail("expired: exp is in the past (clock_skew 30s)")).isEqualTo("The token has expired.");
        assertThat(OidcAuthenticator.clientDetail("audience: the token's aud contains none of [pgwarden]"))
                .isEqualTo("The token's audience does not include this gateway.");
        assertThat(OidcAuthenticator.clientDetail("not yet valid: nbf is in the future (clock_skew 30s)")).isEqualTo("The token is not valid yet.");
        assertThat(OidcAuthenticator.clientDetail("signature: the token's signature does not verify with the issuer's key"))
                .isEqualTo("The token's signature does not verify.");
        assertThat(OidcAuthenticator.clientDetail("unknown key: no key of the issuer's JWKS matches the token's kid and algorithm"))
                .isEqualTo("The token is signed with a key its issuer does not publish.");
        assertThat(OidcAuthenticator.clientDetail("algorithm: unsigned token (alg none) is never accepted"))
                .isEqualTo("The token's signing algorithm is not accepted.");
        assertThat(OidcAuthenticator.clientDetail("malformed: not a JWT (three base64url parts separated by dots)"))
                .isEqualTo("The password is not a well-formed token.");
        assertThat(OidcAuthenticator.clientDetail("something new")).isEqualTo("The token was not accepted.");
    }

    @Test
    void anotherIssuersTokenGetsNoDetailSoTheAuthenticatorForThatIssuerSpeaks() {
        assertThat(OidcAuthenticator.clientDetail("issuer \"https://a.example\" not configured here (this authenticator takes https://b.example)"))
                .isNull();
    }
}
