package io.pgwarden.plugins.oidc;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import io.pgwarden.plugin.api.AuthenticationResult;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.Credentials;
import io.pgwarden.plugin.api.Identity;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks one token against one issuer. Cheap checks come first (size, shape, algorithm,
 * issuer) so that garbage and tokens of other issuers cost no key lookup; then nimbus
 * verifies the signature against the issuer's cached JWKS and the claims (exact {@code iss},
 * {@code aud}, {@code exp}/{@code nbf} with skew, required claims).
 *
 * <p>Rejection reasons go to the operator's log, so they say what was wrong and never
 * contain the token or any encoded part of it.
 */
final class OidcAuthenticator implements Authenticator {
    static final int DISCOVERY_RETRY_SECONDS = 10;
    /** A JWKS larger than this is not a key set; nimbus stops reading there. */
    private static final int JWKS_SIZE_LIMIT = 256 * 1024;
    /**
     * An unknown kid refreshes the JWKS, at most twice per this interval (nimbus's rate limit):
     * a flood of tokens with made-up key ids must not turn the gateway into a load on the IdP.
     */
    private static final long JWKS_REFRESH_MIN_INTERVAL_MILLIS = 10_000;
    /** How long cached keys keep working while the JWKS endpoint cannot be reached. */
    private static final long OUTAGE_TOLERANCE_MILLIS = 60 * 60 * 1000;

    private final OidcSettings settings;
    private final Clock clock;
    private final Discovery discovery;
    private final Object initLock = new Object();
    private volatile DefaultJWTProcessor<SecurityContext> processor;
    private JWKSource<SecurityContext> keySource;
    private long lastDiscoveryFailureNanos;
    private String lastDiscoveryFailure;

    OidcAuthenticator(OidcSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.discovery = new Discovery((int) settings.httpTimeout().toMillis());
    }

    @Override
    public AuthenticationResult authenticate(Credentials credentials) {
        String token = credentials.secret();
        int size = token.getBytes(StandardCharsets.UTF_8).length;
        if (size > settings.maxTokenSize()) {
            return reject("token too large (" + size + " bytes, limit max_token_size " + settings.maxTokenSize() + ")");
        }
        if (!looksLikeJws(token)) {
            return reject("malformed: not a JWT (three base64url parts separated by dots)");
        }
        try {
            // Looked at before the whole token is parsed: with a signature part attached, an
            // alg none token would otherwise pass as merely malformed, hiding the attack.
            if (Algorithm.NONE.equals(Header.parse(new Base64URL(token.substring(0, token.indexOf('.')))).getAlgorithm())) {
                return reject("algorithm: unsigned token (alg none) is never accepted");
            }
        } catch (ParseException e) {
            return reject("malformed: the token's header is not valid JSON");
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException e) {
            return reject("malformed: the token's header or claims are not valid JSON");
        }
        if (jwt instanceof PlainJWT) {
            return reject("algorithm: unsigned token (alg none) is never accepted");
        }
        if (jwt instanceof EncryptedJWT || !(jwt instanceof SignedJWT signed)) {
            return reject("malformed: encrypted tokens (JWE) are not accepted");
        }
        JWSAlgorithm alg = signed.getHeader().getAlgorithm();
        if (!settings.algorithms().contains(alg)) {
            return reject("algorithm " + safeAlgorithmName(alg) + " is not in allowed_algorithms "
                    + settings.algorithms().stream().map(JWSAlgorithm::getName).sorted().toList());
        }
        String tokenIssuer;
        try {
            tokenIssuer = signed.getJWTClaimsSet().getIssuer();
        } catch (ParseException e) {
            return reject("malformed: the token's claims are not a valid claims set");
        }
        if (tokenIssuer == null) {
            return reject("issuer: the token has no iss claim");
        }
        if (!tokenIssuer.equals(settings.issuer())) {
            // Not ours: another oidc authenticator further along the chain may take it.
            return reject("issuer " + printable(tokenIssuer) + " not configured here (this authenticator takes "
                    + settings.issuer() + ")");
        }
        DefaultJWTProcessor<SecurityContext> p;
        try {
            p = processor();
        } catch (DiscoveryException e) {
            return reject(e.getMessage());
        }
        JWTClaimsSet claims;
        try {
            claims = p.process(signed, null);
        } catch (ExpiredJWTException e) {
            return reject("expired: exp is in the past (clock_skew " + settings.clockSkew().toSeconds() + "s)");
        } catch (BadJWSException e) {
            return reject("signature: the token's signature does not verify with the issuer's key");
        } catch (BadJWTException e) {
            return reject(claimProblem(e.getMessage()));
        } catch (BadJOSEException e) {
            return reject("unknown key: no key of the issuer's JWKS matches the token's kid and algorithm"
                    + " (the JWKS was fetched again to look for it)");
        } catch (RateLimitReachedException e) {
            return reject("unknown key: no cached key of the issuer matches the token's kid and algorithm, and the JWKS"
                    + " was refreshed too recently to fetch it again (at most twice every "
                    + JWKS_REFRESH_MIN_INTERVAL_MILLIS / 1000 + "s)");
        } catch (KeySourceException e) {
            return reject("keys unavailable: the issuer's JWKS could not be fetched and no cached key matches ("
                    + e.getClass().getSimpleName() + ")");
        } catch (JOSEException e) {
            return reject("signature: verification failed (" + e.getClass().getSimpleName() + ")");
        }
        return identity(claims);
    }

    private AuthenticationResult identity(JWTClaimsSet claims) {
        Map<String, Object> json = claims.toJSONObject();
        Object name = ClaimPath.resolve(json, settings.nameClaim());
        if (!(name instanceof String n) || n.isBlank()) {
            return reject("name claim " + settings.nameClaim() + " is missing or not a non-empty string");
        }
        Object rawGroups = ClaimPath.resolve(json, settings.groupsClaim());
        Set<String> groups = new LinkedHashSet<>();
        switch (rawGroups) {
            case null -> {
            }
            case List<?> list -> {
                for (Object g : list) {
                    if (g instanceof String s && !s.isBlank()) {
                        groups.add(s);
                    }
                }
            }
            // RFC 8693 §4.2 / RFC 9068: scope is one space-delimited string.
            case String s -> {
                for (String g : s.trim().split("\\s+")) {
                    if (!g.isEmpty()) {
                        groups.add(g);
                    }
                }
            }
            default -> {
                return reject("groups claim " + settings.groupsClaim() + " is neither a list nor a string");
            }
        }
        Map<String, Object> attributes = new LinkedHashMap<>();
        putIfPresent(attributes, "sub", claims.getSubject());
        putIfPresent(attributes, "jti", claims.getJWTID());
        putIfPresent(attributes, "exp", epochSeconds(claims.getExpirationTime()));
        putIfPresent(attributes, "iat", epochSeconds(claims.getIssueTime()));
        if (claims.getAudience() != null && !claims.getAudience().isEmpty()) {
            attributes.put("aud", String.join(" ", claims.getAudience()));
        }
        return AuthenticationResult.accepted(new Identity(n, settings.issuer(), groups, attributes));
    }

    private static void putIfPresent(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }

    private static Long epochSeconds(Date date) {
        return date == null ? null : date.toInstant().getEpochSecond();
    }

    /** Maps nimbus's claim-check messages to ours; its texts may quote token values, ours never do. */
    private String claimProblem(String message) {
        String m = message == null ? "" : message;
        if (m.contains("before use time")) {
            return "not yet valid: nbf is in the future (clock_skew " + settings.clockSkew().toSeconds() + "s)";
        }
        if (m.contains("JWT aud") || m.contains("required aud")) {
            return "audience: the token's aud contains none of " + settings.sortedAudiences();
        }
        if (m.contains("missing required")) {
            Set<String> required = new java.util.TreeSet<>(settings.requiredClaims());
            required.add("exp");
            return "required claims: the token lacks one of " + required;
        }
        if (m.startsWith("JWT iss")) {
            return "issuer: iss does not equal " + settings.issuer();
        }
        if (m.contains("xpired")) {
            return "expired: exp is in the past";
        }
        return "claims rejected";
    }

    private DefaultJWTProcessor<SecurityContext> processor() throws DiscoveryException {
        DefaultJWTProcessor<SecurityContext> p = processor;
        if (p != null) {
            return p;
        }
        synchronized (initLock) {
            if (processor != null) {
                return processor;
            }
            if (lastDiscoveryFailure != null
                    && System.nanoTime() - lastDiscoveryFailureNanos < DISCOVERY_RETRY_SECONDS * 1_000_000_000L) {
                throw new DiscoveryException(lastDiscoveryFailure + " (not retried for " + DISCOVERY_RETRY_SECONDS + "s)");
            }
            try {
                URI jwksUri = settings.jwksUri().isPresent()
                        ? settings.jwksUri().get()
                        : discovery.jwksUri(settings.discoveryUri(), settings.issuer());
                processor = build(jwksUri);
                lastDiscoveryFailure = null;
                return processor;
            } catch (DiscoveryException e) {
                lastDiscoveryFailure = e.getMessage();
                lastDiscoveryFailureNanos = System.nanoTime();
                throw e;
            }
        }
    }

    private DefaultJWTProcessor<SecurityContext> build(URI jwksUri) throws DiscoveryException {
        JWKSource<SecurityContext> keys;
        try {
            long ttl = settings.jwksCacheTtl().toMillis();
            keys = JWKSourceBuilder.<SecurityContext>create(jwksUri.toURL(),
                            new DefaultResourceRetriever((int) settings.httpTimeout().toMillis(),
                                    (int) settings.httpTimeout().toMillis(), JWKS_SIZE_LIMIT))
                    .cache(ttl, settings.httpTimeout().toMillis() + 2_000L)
                    .refreshAheadCache(true)
                    .rateLimited(JWKS_REFRESH_MIN_INTERVAL_MILLIS)
                    .retrying(true)
                    .outageTolerant(OUTAGE_TOLERANCE_MILLIS)
                    .build();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new DiscoveryException("jwks_uri " + jwksUri + " is not usable: " + e.getMessage());
        }
        keySource = keys;
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        Set<JWSAlgorithm> nimbusAlgorithms = new LinkedHashSet<>(settings.algorithms());
        nimbusAlgorithms.removeAll(Ed25519Support.ALGORITHMS);
        // JWSVerificationKeySelector refuses an empty set: with EdDSA alone, give it one
        // algorithm that the header check above has already excluded.
        if (nimbusAlgorithms.isEmpty()) {
            nimbusAlgorithms.add(JWSAlgorithm.RS256);
        }
        p.setJWSKeySelector(Ed25519Support.keySelector(settings.algorithms(), keys,
                new JWSVerificationKeySelector<>(nimbusAlgorithms, keys)));
        p.setJWSVerifierFactory(Ed25519Support.verifierFactory());
        Set<String> required = new LinkedHashSet<>(settings.requiredClaims());
        required.add("exp");
        DefaultJWTClaimsVerifier<SecurityContext> verifier = new DefaultJWTClaimsVerifier<>(
                settings.audiences(), new JWTClaimsSet.Builder().issuer(settings.issuer()).build(), required, null) {
            @Override
            protected Date currentTime() {
                return Date.from(clock.instant());
            }
        };
        verifier.setMaxClockSkew((int) settings.clockSkew().toSeconds());
        p.setJWTClaimsSetVerifier(verifier);
        return p;
    }

    /** Stops the key cache's background refresh. */
    @Override
    public void close() {
        synchronized (initLock) {
            if (keySource instanceof java.io.Closeable closeable) {
                try {
                    closeable.close();
                } catch (java.io.IOException e) {
                    // Nothing is left to release that the gateway could act on.
                }
            }
        }
    }

    /** A compact JWS is exactly three base64url parts; anything else is refused before parsing. */
    private static boolean looksLikeJws(String token) {
        int dots = 0;
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == '.') {
                dots++;
            } else if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return dots == 2 && !token.startsWith(".") && !token.contains("..");
    }

    /** Only a registered algorithm name is repeated; an attacker's header text is not. */
    private static String safeAlgorithmName(JWSAlgorithm alg) {
        Set<JWSAlgorithm> known = new LinkedHashSet<>(JWSAlgorithm.Family.SIGNATURE);
        known.addAll(JWSAlgorithm.Family.HMAC_SHA);
        return known.contains(alg) ? alg.getName() : "(unregistered)";
    }

    /** The token's iss, if it is a short printable string, else a placeholder: it goes to a log line. */
    private static String printable(String value) {
        if (value.length() > 200 || !value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            return "(unprintable value)";
        }
        return "\"" + value + "\"";
    }

    private static AuthenticationResult reject(String reason) {
        return AuthenticationResult.rejected(reason, clientDetail(reason));
    }

    /**
     * What the agent may learn of a refusal: the kind of problem, so its operator can fix
     * the token source, and never any of the token. A token of another issuer gets none, so
     * that the authenticator that does take that issuer speaks for it.
     */
    static String clientDetail(String reason) {
        if (reason.contains("not configured here")) {
            return null;
        }
        String[][] kinds = {
            {"token too large", "The token is larger than this gateway accepts."},
            {"malformed", "The password is not a well-formed token."},
            {"algorithm", "The token's signing algorithm is not accepted."},
            {"issuer", "The token's issuer is not accepted."},
            {"expired", "The token has expired."},
            {"not yet valid", "The token is not valid yet."},
            {"audience", "The token's audience does not include this gateway."},
            {"required claims", "The token lacks a required claim."},
            {"signature", "The token's signature does not verify."},
            {"unknown key", "The token is signed with a key its issuer does not publish."},
            {"keys unavailable", "The issuer's signing keys cannot be fetched right now."},
            {"name claim", "The token lacks the claim that names the agent."},
            {"groups claim", "The token's groups claim is not a list or a string."},
        };
        for (String[] kind : kinds) {
            if (reason.startsWith(kind[0])) {
                return kind[1];
            }
        }
        return "The token was not accepted.";
    }
}
