package io.pgwarden.plugin.api;

/**
 * A plugin's configuration entry is invalid. The message names the key's full path
 * (for example {@code authenticators[0].keys[2].key_sha256}) and what is wrong with it;
 * the gateway prints it and refuses to start.
 */
public class PluginConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String path;

    public PluginConfigException(String path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    public String path() {
        return path;
    }
}
