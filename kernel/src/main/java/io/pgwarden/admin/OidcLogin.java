package io.pgwarden.admin;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import io.pgwarden.config.GatewayConfig.AdminOidc;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OIDC login for people (admin.oidc): the authorization code flow with PKCE (S256), a state
 * bound to the browser that started it and a nonce bound to the ID token, which is checked
 * for its signature (the provider's JWKS), issuer, audience, expiry and nonce (Nimbus
 * OAuth 2.0 SDK). The provider is discovered at the first login, not at start-up, so the
 * gateway starts while the provider is down; discovery checks that the provider names
 * itself with the configured issuer.
 */
final class OidcLogin {
    private static final Logger LOG = LoggerFactory.getLogger(OidcLogin.class);
    /** How long a started login may take at the provider. */
    static final Duration PENDING = Duration.ofMinutes(10);
    static final String CALLBACK = "/login/oidc/callback";

    /** A login started by a browser: what the callback must match. */
    private record Pending(String browser, CodeVerifier verifier, Nonce nonce, Instant started) {
    }

    /** Who logged in, or why not (for the log; the browser gets a generic page). */
    sealed interface Result {
        record LoggedIn(String user, String issuer) implements Result {
        }

        record Refused(String why) implements Result {
        }
    }

    private final AdminOidc config;
    private final Secret clientSecret;
    private final Clock clock;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private volatile OIDCProviderMetadata provider;

    /** @param clientSecret the client's secret, or null for a public client */
    OidcLogin(AdminOidc config, String clientSecret, Clock clock) {
        this.config = config;
        this.clientSecret = clientSecret == null ? null : new Secret(clientSecret);
        this.clock = clock;
    }

    String issuer() {
        return config.issuer().toString();
    }

    private OIDCProviderMetadata provider() throws Exception {
        OIDCProviderMetadata p = provider;
        if (p == null) {
            p = OIDCProviderMetadata.resolve(new Issuer(config.issuer()), 10_000, 10_000);
            provider = p;
        }
        return p;
    }

    /**
     * Starts a login: the provider's authorization URL to send the browser to.
     *
     * @param browser a random value the browser keeps in a cookie: only it can finish this login
     */
    URI start(URI redirect, String browser) throws Exception {
        Instant now = clock.instant();
        pending.values().removeIf(p -> now.isAfter(p.started().plus(PENDING)));
        State state = new State();
        CodeVerifier verifier = new CodeVerifier();
        Nonce nonce = new Nonce();
        pending.put(state.getValue(), new Pending(browser, verifier, nonce, now));
        return new AuthenticationRequest.Builder(new ResponseType(ResponseType.Value.CODE), new Scope("openid", "profile", "email"),
                new ClientID(config.clientId()), redirect)
                .endpointURI(provider().getAuthorizationEndpointURI())
                .state(state).nonce(nonce).codeChallenge(verifier, CodeChallengeMethod.S256)
                .build().toURI();
    }

    /** The provider sent the browser back with {@code code} for {@code state}. */
    Result finish(URI redirect, String state, String code, String browser) {
        Pending p = state == null ? null : pending.remove(state);
        if (p == null || browser == null || !p.browser().equals(browser) || clock.instant().isAfter(p.started().plus(PENDING))) {
            return new Result.Refused("unknown, expired or another browser's login state");
        }
        if (code == null) {
            return new Result.Refused("the provider sent no authorization code");
        }
        try {
            OIDCProviderMetadata meta = provider();
            AuthorizationCodeGrant grant = new AuthorizationCodeGrant(new AuthorizationCode(code), redirect, p.verifier());
            ClientID clientId = new ClientID(config.clientId());
            TokenRequest request = clientSecret != null
                    ? new TokenRequest(meta.getTokenEndpointURI(), new ClientSecretBasic(clientId, clientSecret), grant)
                    : new TokenRequest(meta.getTokenEndpointURI(), clientId, grant);
            var response = OIDCTokenResponseParser.parse(request.toHTTPRequest().send());
            if (!response.indicatesSuccess()) {
                return new Result.Refused("token request refused: " + response.toErrorResponse().getErrorObject().getCode());
            }
            var idToken = ((OIDCTokenResponse) response.toSuccessResponse()).getOIDCTokens().getIDToken();
            IDTokenValidator validator = new IDTokenValidator(meta.getIssuer(), clientId, JWSAlgorithm.RS256,
                    meta.getJWKSetURI().toURL());
            JWTClaimsSet claims = validator.validate(idToken, p.nonce()).toJWTClaimsSet();
            Object name = claims.getClaim(config.nameClaim());
            if (!(name instanceof String user) || user.isBlank()) {
                return new Result.Refused("the ID token has no " + config.nameClaim() + " claim");
            }
            List<String> groups = claims.getClaim(config.groupsClaim()) instanceof List<?> list
                    ? list.stream().map(String::valueOf).toList() : List.of();
            if (!config.names().contains(user) && groups.stream().noneMatch(config.groups()::contains)) {
                return new Result.Refused(user + " is not in admin.oidc.names and has none of admin.oidc.groups");
            }
            return new Result.LoggedIn(user, issuer());
        } catch (Exception e) {
            LOG.warn("admin page: OIDC login failed: {}", e.toString());
            return new Result.Refused("the login could not be completed: " + e.getClass().getSimpleName());
        }
    }
}
