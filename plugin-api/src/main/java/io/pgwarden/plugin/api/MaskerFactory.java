package io.pgwarden.plugin.api;

import org.pf4j.ExtensionPoint;

/**
 * The extension point a plugin implements to provide a masker type. The gateway finds
 * factories through PF4J (and has its own for the built-in types {@code redact},
 * {@code email}, {@code partial}, {@code hash} and {@code null}); every entry of
 * {@code masking.maskers} in the configuration names a {@link #type()} and gets one
 * {@link #create} call at start-up. Policies' {@code mask} rules refer to masker instances
 * by name.
 */
public interface MaskerFactory extends ExtensionPoint {

    /** The value of {@code type} in the configuration that selects this factory. */
    String type();

    /**
     * Validates one configuration entry and builds the masker it describes.
     *
     * @throws PluginConfigException naming the key and the problem; start-up stops with it
     */
    Masker create(PluginConfig config, PluginContext context) throws PluginConfigException;
}
