package io.pgwarden.plugin;

/** A plugin, or a plugin instance the configuration asks for, could not be loaded; start-up stops. */
public final class PluginLoadException extends Exception {
    private static final long serialVersionUID = 1L;

    public PluginLoadException(String message) {
        super(message);
    }
}
