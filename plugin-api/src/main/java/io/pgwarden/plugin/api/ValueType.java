package io.pgwarden.plugin.api;

/**
 * The SQL type of a value being masked, as the gateway knows it from the result's column
 * description: the type's OID, its name (such as {@code text}, {@code jsonb}, {@code int4})
 * and the family the gateway sorts it into.
 *
 * <p>Whatever a {@link Masker} returns, the gateway keeps the value valid for its type: text
 * families take any string; for {@link Kind#JSON} a result that is not a JSON document is
 * sent as a JSON string; for {@link Kind#NUMBER} a result that is not a plain decimal number
 * ({@code -?digits[.digits]}; for integer types a whole number in the type's range) becomes
 * NULL; for {@link Kind#OTHER} (dates, UUIDs, arrays, …) the masked value is NULL
 * unless the masker's result is accepted by {@link Masker#validFor}; and in every family a
 * result equal to the original value becomes NULL. A masker therefore never
 * has to know PostgreSQL's input rules, and a mistake in one can only lose information,
 * never let the original through.
 *
 * @param oid  the type's OID ({@code pg_type.oid}); 0 when unknown
 * @param name the type's name, lower case, without schema; {@code "unknown"} when unknown
 * @param kind the family the gateway sorts the type into
 */
public record ValueType(int oid, String name, Kind kind) {

    /** Type families that decide which masked values are valid. */
    public enum Kind {
        /** text, varchar, char, name, citext: any string is a valid value. */
        TEXT,
        /** json and jsonb: a JSON document. */
        JSON,
        /** int2/int4/int8, numeric, float4/float8: a decimal number. */
        NUMBER,
        /** everything else. */
        OTHER
    }

    public ValueType {
        if (name == null || kind == null) {
            throw new IllegalArgumentException("name and kind are required");
        }
    }
}
