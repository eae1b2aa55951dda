package io.pgwarden.plugins.auditsyslog;

import io.pgwarden.plugin.api.AuditSink;
import io.pgwarden.plugin.api.AuditSinkFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.pf4j.Extension;

/**
 * {@code type: syslog}: every audit event as an RFC 5424 message to a syslog receiver.
 *
 * <pre>
 * audit:
 *   sinks:
 *     - type: syslog
 *       host: logs.example.com
 *       port: 514                 # default 514
 *       protocol: tcp             # udp (default) or tcp (octet-counting framing, RFC 6587)
 *       facility: local0          # a name (kern … local7) or its number 0-23; default local0
 *       app_name: pgwarden        # default pgwarden
 *       hostname: gw1             # default: this host's name
 *       max_message_size: 8192    # udp only: longer messages get their statement shortened
 *       timeout: 10s              # tcp connect timeout
 *       bom: true                 # the UTF-8 byte order mark before the message (RFC 5424 §6.4)
 * </pre>
 */
@Extension
public final class SyslogSinkFactory implements AuditSinkFactory {
    static final String TYPE = "syslog";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AuditSink create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("type", "name", "host", "port", "protocol", "facility", "app_name", "hostname",
                "max_message_size", "timeout", "bom"));
        String host = config.string("host");
        if (host.isBlank()) {
            throw new PluginConfigException(config.path() + ".host", "must name the syslog receiver");
        }
        int port = config.optionalInt("port").orElse(514);
        if (port < 1 || port > 65535) {
            throw new PluginConfigException(config.path() + ".port", port + " is not a TCP/UDP port (1-65535)");
        }
        SyslogSink.Protocol protocol = switch (config.optionalString("protocol").orElse("udp")) {
            case "udp" -> SyslogSink.Protocol.UDP;
            case "tcp" -> SyslogSink.Protocol.TCP;
            default -> throw new PluginConfigException(config.path() + ".protocol", "must be udp or tcp");
        };
        int facility = facility(config);
        String appName = config.optionalString("app_name").orElse("pgwarden");
        if (appName.isEmpty() || appName.length() > 48 || !appName.chars().allMatch(c -> c >= 33 && c <= 126)) {
            throw new PluginConfigException(config.path() + ".app_name", "must be 1 to 48 printable ASCII characters, no spaces");
        }
        String hostname = config.optionalString("hostname").orElseGet(SyslogSinkFactory::localHostName);
        int maxMessageSize = config.optionalInt("max_message_size").orElse(8192);
        if (maxMessageSize < 480 || maxMessageSize > 65507) {
            // RFC 5426 §3.2: receivers take at least 480 octets; 65507 is the most a UDP datagram holds.
            throw new PluginConfigException(config.path() + ".max_message_size", "must be between 480 and 65507");
        }
        if (config.asMap().containsKey("max_message_size") && protocol == SyslogSink.Protocol.TCP) {
            throw new PluginConfigException(config.path() + ".max_message_size", "applies to udp only (tcp frames any length)");
        }
        Duration timeout = config.optionalDuration("timeout").orElse(Duration.ofSeconds(10));
        if (timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) {
            throw new PluginConfigException(config.path() + ".timeout", "must be longer than zero");
        }
        boolean bom = config.optionalBoolean("bom").orElse(true);
        return new SyslogSink(host, port, protocol, new SyslogFormat(facility, hostname, appName, bom), maxMessageSize, timeout);
    }

    private static int facility(PluginConfig config) throws PluginConfigException {
        Object raw = config.asMap().get("facility");
        if (raw == null) {
            return SyslogFormat.FACILITIES.indexOf("local0");
        }
        if (raw instanceof Integer n && n >= 0 && n < SyslogFormat.FACILITIES.size()) {
            return n;
        }
        int byName = raw instanceof String s ? SyslogFormat.FACILITIES.indexOf(s.toLowerCase(Locale.ROOT)) : -1;
        if (byName < 0) {
            throw new PluginConfigException(config.path() + ".facility", "must be one of "
                    + String.join(", ", SyslogFormat.FACILITIES) + ", or a number 0-23");
        }
        return byName;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "-";
        }
    }
}
