package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.PiiDetector;
import io.pgwarden.plugin.api.ValueType;
import java.util.List;

/** STAND-IN until the maskers branch is merged. */
public final class ContentMasking {
    private ContentMasking() {
    }

    public static String mask(List<PiiDetector> detectors, Masker masker, String value, ValueType type) {
        for (PiiDetector d : detectors) {
            if (!d.find(value).isEmpty()) {
                return ValueMasking.mask(masker, value, type);
            }
        }
        return value;
    }
}
