package io.pgwarden.plugins.approverslack;

import io.pgwarden.plugin.api.Approver;
import io.pgwarden.plugin.api.ApproverFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.pf4j.Extension;

/**
 * {@code type: slack}: a message through a Slack incoming webhook, with the request's details
 * and approve/deny buttons that open the gateway's signed links.
 *
 * <pre>
 * approvers:
 *   - type: slack
 *     webhook_url_env: PGWARDEN_SLACK_WEBHOOK   # the webhook's URL is a secret: from the environment
 *     # webhook_url: https://hooks.slack.com/services/...   (instead, for a test setup)
 *     channel: "#dba-approvals"                 # who decides through the buttons, as recorded
 *     timeout: 10s
 * </pre>
 */
@Extension
public final class SlackApproverFactory implements ApproverFactory {
    static final String TYPE = "slack";

    record Settings(URI webhook, String recipient, Duration timeout) {
        @Override
        public String toString() {
            return "Settings[webhook=<hidden>, recipient=" + recipient + ", timeout=" + timeout + "]";
        }
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Approver create(PluginConfig config, PluginContext context) throws PluginConfigException {
        return new SlackApprover(settings(config, System::getenv));
    }

    static Settings settings(PluginConfig config, Function<String, String> environment) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("type", "name", "webhook_url", "webhook_url_env", "channel", "timeout"));
        Optional<String> direct = config.optionalString("webhook_url");
        Optional<String> env = config.optionalString("webhook_url_env");
        if (direct.isPresent() == env.isPresent()) {
            throw new PluginConfigException(config.path(), "give exactly one of webhook_url and webhook_url_env");
        }
        String at = config.path() + (direct.isPresent() ? ".webhook_url" : ".webhook_url_env");
        String text = direct.isPresent() ? direct.get() : environment.apply(env.get());
        if (text == null || text.isEmpty()) {
            throw new PluginConfigException(at, "environment variable " + env.orElse("") + " is not set");
        }
        URI url;
        try {
            url = new URI(text);
        } catch (URISyntaxException e) {
            throw new PluginConfigException(at, "is not a URL");
        }
        if (url.getHost() == null || !("https".equals(url.getScheme()) || "http".equals(url.getScheme()))) {
            throw new PluginConfigException(at, "must be an absolute http(s) URL");
        }
        String channel = config.optionalString("channel").orElse(config.optionalString("name").orElse(TYPE));
        Duration timeout = config.optionalDuration("timeout").orElse(Duration.ofSeconds(10));
        if (timeout.isZero()) {
            throw new PluginConfigException(config.path() + ".timeout", "must be longer than zero");
        }
        return new Settings(url, "slack " + channel, timeout);
    }
}
