package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.ValueType;

/** STAND-IN until the maskers branch is merged. */
public final class ValueMasking {
    private ValueMasking() {
    }

    public static String mask(Masker masker, String value, ValueType type) {
        try {
            String m = masker.mask(value, type);
            return type.kind() == ValueType.Kind.TEXT ? m : null;
        } catch (RuntimeException e) {
            return null;
        }
    }
}
