package io.pgwarden.config;

import java.util.List;

/**
 * The configuration cannot be used. Each problem names the key's path (and the file's line
 * where it is known) so that the operator can go straight to it.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    public ConfigException(String problem) {
        this(List.of(problem));
    }

    public List<String> problems() {
        return problems;
    }
}
