package io.pgwarden.masking;

import io.pgwarden.plugin.api.ValueType;

/** STAND-IN until the maskers branch is merged. */
public final class ValueTypes {
    private ValueTypes() {
    }

    public static ValueType of(int oid) {
        return switch (oid) {
            case 25, 1043, 1042, 19, 705 -> new ValueType(oid, "text", ValueType.Kind.TEXT);
            case 114, 3802 -> new ValueType(oid, oid == 114 ? "json" : "jsonb", ValueType.Kind.JSON);
            case 20, 21, 23, 1700, 700, 701 -> new ValueType(oid, "number", ValueType.Kind.NUMBER);
            default -> new ValueType(oid, "unknown", ValueType.Kind.OTHER);
        };
    }
}
