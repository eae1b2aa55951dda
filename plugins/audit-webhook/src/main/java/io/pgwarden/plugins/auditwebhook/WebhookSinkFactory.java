package io.pgwarden.plugins.auditwebhook;

import io.pgwarden.plugin.api.AuditSink;
import io.pgwarden.plugin.api.AuditSinkFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.pf4j.Extension;

/**
 * {@code type: webhook}: batches of audit events as JSON in an HTTP POST.
 *
 * <pre>
 * audit:
 *   sinks:
 *     - type: webhook
 *       url: https://siem.example.com/ingest/pgwarden
 *       bearer_token_env: PGWARDEN_AUDIT_TOKEN   # Authorization: Bearer …, read from the environment
 *       headers: { X-Source: pgwarden }          # more request headers
 *       timeout: 10s                             # connect and whole-request timeout
 *       max_batch: 100                           # events per request
 * </pre>
 */
@Extension
public final class WebhookSinkFactory implements AuditSinkFactory {
    static final String TYPE = "webhook";
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** Headers the sink sets itself, or that the HTTP client refuses to let anyone set. */
    private static final Set<String> RESERVED = Set.of("content-type", "idempotency-key", "authorization", "content-length",
            "host", "connection", "expect", "upgrade", "transfer-encoding");

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AuditSink create(PluginConfig config, PluginContext context) throws PluginConfigException {
        return create(config, System::getenv);
    }

    AuditSink create(PluginConfig config, java.util.function.Function<String, String> environment) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("type", "name", "url", "headers", "bearer_token_env", "timeout", "max_batch"));
        URI url = url(config);
        Map<String, String> headers = config.stringMap("headers");
        for (Map.Entry<String, String> h : headers.entrySet()) {
            String at = config.path() + ".headers." + h.getKey();
            if (!TOKEN.matcher(h.getKey()).matches()) {
                throw new PluginConfigException(at, "is not a valid HTTP header name");
            }
            if (RESERVED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                throw new PluginConfigException(at, "is set by the sink itself (use bearer_token_env for Authorization)");
            }
            if (h.getValue().chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
                throw new PluginConfigException(at, "must not contain control characters");
            }
        }
        String token = null;
        Optional<String> tokenEnv = config.optionalString("bearer_token_env");
        if (tokenEnv.isPresent()) {
            token = environment.apply(tokenEnv.get());
            if (token == null || token.isEmpty()) {
                throw new PluginConfigException(config.path() + ".bearer_token_env",
                        "environment variable " + tokenEnv.get() + " is not set");
            }
        }
        Duration timeout = config.optionalDuration("timeout").orElse(Duration.ofSeconds(10));
        if (timeout.isZero()) {
            throw new PluginConfigException(config.path() + ".timeout", "must be longer than zero");
        }
        int maxBatch = config.optionalInt("max_batch").orElse(100);
        if (maxBatch < 1 || maxBatch > 10_000) {
            throw new PluginConfigException(config.path() + ".max_batch", "must be between 1 and 10000");
        }
        return new WebhookSink(url, headers, token, timeout, maxBatch);
    }

    private static URI url(PluginConfig config) throws PluginConfigException {
        String text = config.string("url");
        URI url;
        try {
            url = new URI(text);
        } catch (URISyntaxException e) {
            throw new PluginConfigException(config.path() + ".url", "is not a URL: " + e.getReason());
        }
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || url.getHost() == null) {
            throw new PluginConfigException(config.path() + ".url", "must be an http:// or https:// URL with a host");
        }
        if (url.getUserInfo() != null) {
            throw new PluginConfigException(config.path() + ".url",
                    "must not carry a user or password (they would be logged with the URL); use bearer_token_env or headers");
        }
        return url;
    }
}
