package io.pgwarden.plugins.auditjsonl;

import io.pgwarden.plugin.api.AuditSink;
import io.pgwarden.plugin.api.AuditSinkFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Set;
import org.pf4j.Extension;

/**
 * {@code type: jsonl}: every audit event as one line of JSON ({@code AuditEvent.toJson()})
 * appended to a file, one file per day by default, synced to the disk before a batch counts
 * as delivered.
 *
 * <pre>
 * audit:
 *   sinks:
 *     - type: jsonl
 *       path: ./data/audit.jsonl   # written as ./data/audit-2026-11-25.jsonl, one file a day
 *       rotate: daily              # or none: always the file at path
 *       time_zone: UTC             # whose midnight starts a new file
 * </pre>
 */
@Extension
public final class JsonlSinkFactory implements AuditSinkFactory {
    static final String TYPE = "jsonl";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AuditSink create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("type", "name", "path", "rotate", "time_zone"));
        String pathText = config.string("path");
        if (pathText.isBlank()) {
            throw new PluginConfigException(config.path() + ".path", "must name a file");
        }
        Path path = context.baseDirectory().resolve(pathText).normalize();
        if (Files.isDirectory(path)) {
            throw new PluginConfigException(config.path() + ".path", path + " is a directory; name a file in it");
        }
        boolean daily = switch (config.optionalString("rotate").orElse("daily")) {
            case "daily" -> true;
            case "none" -> false;
            default -> throw new PluginConfigException(config.path() + ".rotate", "must be daily or none");
        };
        ZoneId zone;
        try {
            zone = config.optionalString("time_zone").map(ZoneId::of).orElse(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new PluginConfigException(config.path() + ".time_zone",
                    "is not a time zone (use UTC, an offset such as +01:00, or a region such as Europe/Berlin)");
        }
        return new JsonlSink(path, daily, context.clock().withZone(zone));
    }
}
