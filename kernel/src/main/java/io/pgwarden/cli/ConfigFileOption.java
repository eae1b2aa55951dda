package io.pgwarden.cli;

import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config FILE}, which every command that reads a configuration takes (DESIGN §5). */
final class ConfigFileOption {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The configuration file (YAML).")
    Path file;

    /** Loads and validates the file, printing each problem to standard error; null when it is unusable. */
    LoadedConfig loadOrReport() {
        try {
            return ConfigLoader.load(file);
        } catch (ConfigException e) {
            e.problems().forEach(System.err::println);
            return null;
        }
    }
}
