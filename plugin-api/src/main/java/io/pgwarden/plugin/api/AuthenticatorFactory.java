package io.pgwarden.plugin.api;

import org.pf4j.ExtensionPoint;

/**
 * The extension point a plugin implements to provide an authenticator type, such as
 * {@code static-keys} or {@code oidc}. The gateway finds factories through PF4J, matches
 * each {@code authenticators[]} entry of its configuration by {@link #type()}, and calls
 * {@link #create} once per entry at start-up.
 */
public interface AuthenticatorFactory extends ExtensionPoint {

    /** The value of {@code type} in the configuration that selects this factory. */
    String type();

    /**
     * Validates one configuration entry and builds the authenticator it describes.
     *
     * @throws PluginConfigException naming the key and the problem; start-up stops with it
     */
    Authenticator create(PluginConfig config, PluginContext context) throws PluginConfigException;
}
