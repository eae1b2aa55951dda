package io.pgwarden.plugin.api;

import java.time.Clock;

/**
 * What the gateway hands a plugin instance besides its configuration.
 *
 * @param instanceName where the instance is configured, e.g. {@code authenticators[1]}, for log lines
 * @param clock        the gateway's clock; use it instead of the system clock so tests can move time
 */
public record PluginContext(String instanceName, Clock clock) {
}
