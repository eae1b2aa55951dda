package io.pgwarden.plugins.oidc;

import com.nimbusds.jose.JWSAlgorithm;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.AuthenticatorFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.pf4j.Extension;

/**
 * {@code type: oidc}: the PostgreSQL password is a signed JWT from an OpenID Connect
 * provider (a Kubernetes service-account token, a GitHub Actions OIDC token, a
 * client-credentials access token of Keycloak, Okta, Entra...).
 *
 * <p><b>Nothing is fetched at start-up.</b> {@link #create} only validates the configuration;
 * discovery ({@code <issuer>/.well-known/openid-configuration}) and the first JWKS fetch happen
 * on the first token this instance is asked to check. Reasons: the gateway and
 * {@code pgwarden check-config} must start and answer offline, and one identity provider
 * being briefly down must not keep agents of the other authenticators (static keys, other
 * issuers) out. The cost is that a wrong {@code issuer} or {@code jwks_uri} shows up in the
 * log at the first login instead of at start-up; every such failure names the URL and what
 * went wrong, and discovery is retried at most every {@value OidcAuthenticator#DISCOVERY_RETRY_SECONDS}
 * seconds.
 */
@Extension
public final class OidcAuthenticatorFactory implements AuthenticatorFactory {
    static final String TYPE = "oidc";

    static final List<JWSAlgorithm> DEFAULT_ALGORITHMS =
            List.of(JWSAlgorithm.RS256, JWSAlgorithm.PS256, JWSAlgorithm.ES256, JWSAlgorithm.EdDSA);
    /** Asymmetric JWS algorithms only: with a public key, HMAC would let anyone sign. */
    private static final Set<JWSAlgorithm> SUPPORTED = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
            JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);
    static final int DEFAULT_MAX_TOKEN_SIZE = 32 * 1024;
    /** 1 MiB: far beyond any real token, and below what a password message may carry. */
    private static final int LARGEST_MAX_TOKEN_SIZE = 1024 * 1024;
    private static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
    private static final Duration DEFAULT_JWKS_CACHE_TTL = Duration.ofMinutes(5);
    /** nimbus refreshes 30 s ahead of expiry with a 5 s timeout: a shorter TTL would never be served. */
    private static final Duration SHORTEST_JWKS_CACHE_TTL = Duration.ofMinutes(1);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB)?");
    /** Long enough for a provider across a WAN, short enough that a dead one does not hold logins up. */
    static final Duration DEFAULT_HTTP_TIMEOUT = Duration.ofSeconds(3);
    private static final Set<String> KEYS = Set.of("type", "name", "issuer", "audience", "name_claim", "groups_claim",
            "jwks_uri", "allowed_algorithms", "clock_skew", "required_claims", "max_token_size", "jwks_cache_ttl", "http_timeout");

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Authenticator create(PluginConfig config, PluginContext context) throws PluginConfigException {
        return new OidcAuthenticator(settings(config), context.clock());
    }

    static OidcSettings settings(PluginConfig config) throws PluginConfigException {
        config.requireOnlyKeys(KEYS);
        String issuer = config.string("issuer");
        httpUrl(config, "issuer", issuer);
        Set<String> audiences = audiences(config);
        String nameClaim = claimPath(config, "name_claim", "sub");
        String groupsClaim = claimPath(config, "groups_claim", "groups");
        Optional<URI> jwksUri = Optional.empty();
        Optional<String> jwks = config.optionalString("jwks_uri");
        if (jwks.isPresent()) {
            jwksUri = Optional.of(httpUrl(config, "jwks_uri", jwks.get()));
        }
        Set<JWSAlgorithm> algorithms = algorithms(config);
        Duration clockSkew = duration(config, "clock_skew", DEFAULT_CLOCK_SKEW);
        if (clockSkew.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new PluginConfigException(config.path() + ".clock_skew", "must be at most 5m (it extends every token's life)");
        }
        Set<String> required = new LinkedHashSet<>();
        List<String> requiredList = config.stringList("required_claims");
        for (int i = 0; i < requiredList.size(); i++) {
            if (requiredList.get(i).isBlank()) {
                throw new PluginConfigException(config.path() + ".required_claims[" + i + "]", "must not be blank");
            }
            required.add(requiredList.get(i));
        }
        int maxTokenSize = size(config, "max_token_size", DEFAULT_MAX_TOKEN_SIZE);
        Duration ttl = duration(config, "jwks_cache_ttl", DEFAULT_JWKS_CACHE_TTL);
        if (ttl.compareTo(SHORTEST_JWKS_CACHE_TTL) < 0) {
            throw new PluginConfigException(config.path() + ".jwks_cache_ttl", "must be at least 1m");
        }
        Duration httpTimeout = duration(config, "http_timeout", DEFAULT_HTTP_TIMEOUT);
        if (httpTimeout.compareTo(Duration.ofMillis(100)) < 0 || httpTimeout.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new PluginConfigException(config.path() + ".http_timeout", "must be between 100ms and 60s");
        }
        config.optionalString("name");
        return new OidcSettings(issuer, Set.copyOf(audiences), nameClaim, groupsClaim, jwksUri, Set.copyOf(algorithms),
                clockSkew, Set.copyOf(required), maxTokenSize, ttl, httpTimeout);
    }

    private static URI httpUrl(PluginConfig config, String key, String value) throws PluginConfigException {
        URI uri;
        try {
            uri = new URI(value);
        } catch (java.net.URISyntaxException e) {
            throw new PluginConfigException(config.path() + "." + key, "is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("https") || scheme.equals("http")) || uri.getHost() == null) {
            throw new PluginConfigException(config.path() + "." + key, "must be an https:// (or http://) URL with a host");
        }
        if (uri.getQuery() != null || uri.getFragment() != null) {
            throw new PluginConfigException(config.path() + "." + key, "must not have a query or fragment");
        }
        return uri;
    }

    private static Set<String> audiences(PluginConfig config) throws PluginConfigException {
        Object value = config.asMap().get("audience");
        Set<String> result = new LinkedHashSet<>();
        if (value instanceof List<?>) {
            List<String> list = config.stringList("audience");
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i).isBlank()) {
                    throw new PluginConfigException(config.path() + ".audience[" + i + "]", "must not be blank");
                }
                result.add(list.get(i));
            }
        } else {
            String single = config.string("audience");
            if (!single.isBlank()) {
                result.add(single);
            }
        }
        if (result.isEmpty()) {
            throw new PluginConfigException(config.path() + ".audience",
                    "is required: without it a token minted for any other service of the same issuer would be accepted");
        }
        return result;
    }

    private static String claimPath(PluginConfig config, String key, String fallback) throws PluginConfigException {
        String path = config.optionalString(key).orElse(fallback);
        if (path.isBlank() || path.startsWith(".") || path.endsWith(".") || path.contains("..")) {
            throw new PluginConfigException(config.path() + "." + key, "must be a claim name or a dotted path such as realm_access.roles");
        }
        return path;
    }

    private static Set<JWSAlgorithm> algorithms(PluginConfig config) throws PluginConfigException {
        if (!config.asMap().containsKey("allowed_algorithms")) {
            return new LinkedHashSet<>(DEFAULT_ALGORITHMS);
        }
        List<String> names = config.stringList("allowed_algorithms");
        if (names.isEmpty()) {
            throw new PluginConfigException(config.path() + ".allowed_algorithms", "must name at least one algorithm");
        }
        Set<JWSAlgorithm> result = new LinkedHashSet<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            String keyPath = config.path() + ".allowed_algorithms[" + i + "]";
            if (name.equalsIgnoreCase("none")) {
                throw new PluginConfigException(keyPath, "\"none\" is never accepted: an unsigned token proves nothing");
            }
            if (name.toUpperCase(Locale.ROOT).startsWith("HS")) {
                throw new PluginConfigException(keyPath, "HMAC algorithms are refused: verifying with the issuer's "
                        + "public key would let anyone who has that key sign tokens");
            }
            JWSAlgorithm alg = JWSAlgorithm.parse(name);
            if (!SUPPORTED.contains(alg)) {
                throw new PluginConfigException(keyPath, "unknown algorithm \"" + name + "\" (supported: "
                        + String.join(", ", SUPPORTED.stream().map(JWSAlgorithm::getName).sorted().toList()) + ")");
            }
            result.add(alg);
        }
        return result;
    }

    static Duration duration(PluginConfig config, String key, Duration fallback) throws PluginConfigException {
        Optional<String> text = config.optionalString(key);
        if (text.isEmpty()) {
            return fallback;
        }
        Matcher m = DURATION.matcher(text.get().trim());
        if (!m.matches()) {
            throw new PluginConfigException(config.path() + "." + key, "must be a duration such as 30s, 5m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static int size(PluginConfig config, String key, int fallback) throws PluginConfigException {
        Object raw = config.asMap().get(key);
        if (raw == null) {
            return fallback;
        }
        Matcher m = SIZE.matcher(raw.toString().trim());
        if (!(raw instanceof Number || raw instanceof String) || !m.matches()) {
            throw new PluginConfigException(config.path() + "." + key, "must be a size in bytes, or such as 32KiB");
        }
        long n = Long.parseLong(m.group(1));
        long bytes = switch (m.group(2) == null ? "B" : m.group(2)) {
            case "KiB" -> n * 1024;
            case "MiB" -> n * 1024 * 1024;
            default -> n;
        };
        if (bytes < 1024 || bytes > LARGEST_MAX_TOKEN_SIZE) {
            throw new PluginConfigException(config.path() + "." + key, "must be between 1KiB and 1MiB");
        }
        return (int) bytes;
    }

}
