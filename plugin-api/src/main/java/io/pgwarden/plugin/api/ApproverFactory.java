package io.pgwarden.plugin.api;

import org.pf4j.ExtensionPoint;

/**
 * The extension point a plugin implements to provide an approver type, such as
 * {@code email} or {@code slack}. The gateway matches each {@code approvers[]} entry of its
 * configuration by {@link #type()} and calls {@link #create} once per entry at start-up (and
 * in {@code check-config}). The type {@code web} (the admin page's inbox) is the gateway's own.
 */
public interface ApproverFactory extends ExtensionPoint {

    /** The value of {@code type} in the configuration that selects this factory. */
    String type();

    /**
     * Validates one configuration entry and builds the approver it describes. Check
     * everything here, but contact nothing.
     *
     * @throws PluginConfigException naming the key and the problem; start-up stops with it
     */
    Approver create(PluginConfig config, PluginContext context) throws PluginConfigException;
}
