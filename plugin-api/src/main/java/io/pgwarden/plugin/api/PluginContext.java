package io.pgwarden.plugin.api;

import java.nio.file.Path;
import java.time.Clock;

/**
 * What the gateway hands a plugin instance besides its configuration.
 *
 * @param instanceName  where the instance is configured, e.g. {@code authenticators[1]}, for log lines
 * @param clock         the gateway's clock; use it instead of the system clock so tests can move time
 * @param baseDirectory the configuration file's folder: resolve relative paths in the
 *                      plugin's configuration against it, as the gateway does for its own
 */
public record PluginContext(String instanceName, Clock clock, Path baseDirectory) {
}
