package io.pgwarden.config;

import java.nio.file.Path;

/**
 * A validated configuration and the folder its relative paths are relative to (the
 * configuration file's own folder, so a file means the same wherever it is started from).
 */
public record LoadedConfig(GatewayConfig config, Path baseDir) {

    public Path resolve(Path path) {
        return baseDir.resolve(path).normalize();
    }
}
