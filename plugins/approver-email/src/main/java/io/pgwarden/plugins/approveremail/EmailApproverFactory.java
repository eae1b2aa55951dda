package io.pgwarden.plugins.approveremail;

import io.pgwarden.plugin.api.Approver;
import io.pgwarden.plugin.api.ApproverFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.pf4j.Extension;

/**
 * {@code type: email}: one message per recipient, each with signed approve/deny links of its
 * own (whoever follows a link decides as that recipient).
 *
 * <pre>
 * approvers:
 *   - type: email
 *     smtp:
 *       host: smtp.example.com
 *       port: 587                        # default 587; 465 with tls: implicit
 *       tls: starttls                    # starttls (default: required before anything is sent) | implicit | none
 *       username: pgwarden               # SMTP AUTH, with the password from the environment
 *       password_env: PGWARDEN_SMTP_PASSWORD
 *       timeout: 10s
 *     from: pgwarden@example.com
 *     to: [dba@example.com, oncall@example.com]
 * </pre>
 */
@Extension
public final class EmailApproverFactory implements ApproverFactory {
    static final String TYPE = "email";

    /** How the connection to the SMTP server is protected. */
    enum Tls {
        /** Plain connection upgraded with STARTTLS; the server must offer it, or nothing is sent. */
        STARTTLS,
        /** TLS from the first byte (SMTPS, usually port 465). */
        IMPLICIT,
        /** No TLS: for a relay on the same host or a test server only; the password would cross in the clear. */
        NONE
    }

    record Settings(String host, int port, Tls tls, String username, String password, Duration timeout,
                    InternetAddress from, List<InternetAddress> to) {
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Approver create(PluginConfig config, PluginContext context) throws PluginConfigException {
        return new EmailApprover(settings(config, System::getenv), context.instanceName());
    }

    static Settings settings(PluginConfig config, Function<String, String> environment) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("type", "name", "smtp", "from", "to"));
        if (!(config.asMap().get("smtp") instanceof java.util.Map<?, ?> smtpMap)) {
            throw new PluginConfigException(config.path() + ".smtp", "is required: a mapping with at least host");
        }
        PluginConfig smtp = nested(config.path() + ".smtp", smtpMap);
        smtp.requireOnlyKeys(Set.of("host", "port", "tls", "username", "password_env", "timeout"));
        String host = smtp.string("host");
        String tlsText = smtp.optionalString("tls").orElse("starttls").toLowerCase(Locale.ROOT);
        Tls tls = switch (tlsText) {
            case "starttls" -> Tls.STARTTLS;
            case "implicit" -> Tls.IMPLICIT;
            case "none" -> Tls.NONE;
            default -> throw new PluginConfigException(smtp.path() + ".tls", "must be starttls, implicit or none");
        };
        int port = smtp.optionalInt("port").orElse(tls == Tls.IMPLICIT ? 465 : 587);
        if (port < 1 || port > 65535) {
            throw new PluginConfigException(smtp.path() + ".port", "must be a TCP port (1-65535)");
        }
        Optional<String> username = smtp.optionalString("username");
        String password = null;
        Optional<String> passwordEnv = smtp.optionalString("password_env");
        if (username.isPresent() != passwordEnv.isPresent()) {
            throw new PluginConfigException(smtp.path(), "username and password_env go together");
        }
        if (passwordEnv.isPresent()) {
            password = environment.apply(passwordEnv.get());
            if (password == null || password.isEmpty()) {
                throw new PluginConfigException(smtp.path() + ".password_env", "environment variable " + passwordEnv.get() + " is not set");
            }
        }
        Duration timeout = smtp.optionalDuration("timeout").orElse(Duration.ofSeconds(10));
        if (timeout.isZero()) {
            throw new PluginConfigException(smtp.path() + ".timeout", "must be longer than zero");
        }
        InternetAddress from = address(config.path() + ".from", config.string("from"));
        List<String> toText = config.stringList("to");
        if (toText.isEmpty()) {
            throw new PluginConfigException(config.path() + ".to", "name at least one recipient");
        }
        List<InternetAddress> to = new ArrayList<>();
        for (int i = 0; i < toText.size(); i++) {
            to.add(address(config.path() + ".to[" + i + "]", toText.get(i)));
        }
        return new Settings(host, port, tls, username.orElse(null), password, timeout, from, List.copyOf(to));
    }

    private static PluginConfig nested(String path, java.util.Map<?, ?> map) throws PluginConfigException {
        java.util.Map<String, Object> values = new java.util.LinkedHashMap<>();
        for (var e : map.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new PluginConfigException(path, "keys must be strings");
            }
            values.put(k, e.getValue());
        }
        return new PluginConfig(path, values);
    }

    private static InternetAddress address(String at, String text) throws PluginConfigException {
        try {
            InternetAddress a = new InternetAddress(text, true);
            if (a.getAddress().indexOf('@') < 1) {
                throw new AddressException("no domain");
            }
            return a;
        } catch (AddressException e) {
            throw new PluginConfigException(at, "\"" + text + "\" is not an e-mail address");
        }
    }
}
