package io.pgwarden.plugin.api;

import org.pf4j.ExtensionPoint;

/**
 * The extension point a plugin implements to provide an audit sink type, such as
 * {@code jsonl}, {@code syslog} or {@code webhook}. The gateway finds factories through PF4J,
 * matches each {@code audit.sinks[]} entry of its configuration by {@link #type()}, and calls
 * {@link #create} once per entry at start-up (and in {@code check-config}, which closes the
 * sink again without delivering anything).
 */
public interface AuditSinkFactory extends ExtensionPoint {

    /** The value of {@code type} in the configuration that selects this factory. */
    String type();

    /**
     * Validates one configuration entry and builds the sink it describes. Check everything
     * here, but contact nothing: a receiver that is down at start-up is the outbox's to
     * retry, not a reason to refuse to start.
     *
     * @throws PluginConfigException naming the key and the problem; start-up stops with it
     */
    AuditSink create(PluginConfig config, PluginContext context) throws PluginConfigException;
}
