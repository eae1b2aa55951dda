package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.ValueType;

/**
 * A masker as the configuration names it: log lines about a masker (a failure, a NULL
 * sent instead) name it by {@link #toString}, which is its name and type, never a key.
 */
public record NamedMasker(String name, String type, Masker masker) implements Masker {

    @Override
    public String mask(String value, ValueType valueType) {
        return masker.mask(value, valueType);
    }

    @Override
    public boolean validFor(String masked, ValueType valueType) {
        return masker.validFor(masked, valueType);
    }

    @Override
    public String toString() {
        return name.equals(type) ? name : name + " (" + type + ")";
    }
}
