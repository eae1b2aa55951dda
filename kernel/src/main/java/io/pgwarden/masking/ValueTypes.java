package io.pgwarden.masking;

import io.pgwarden.plugin.api.ValueType;
import io.pgwarden.plugin.api.ValueType.Kind;
import java.util.Map;

/**
 * The {@link ValueType} of a result column from its type OID (RowDescription), for the
 * built-in types whose OIDs are fixed (PostgreSQL's {@code pg_type.dat}). Extension types
 * such as citext get their OID at CREATE EXTENSION time, so the engine passes their name
 * from the catalog to {@link #of(int, String)}.
 */
public final class ValueTypes {
    public static final int BOOL = 16;
    public static final int BYTEA = 17;
    public static final int CHAR = 18;
    public static final int NAME = 19;
    public static final int INT8 = 20;
    public static final int INT2 = 21;
    public static final int INT4 = 23;
    public static final int TEXT = 25;
    public static final int OID = 26;
    public static final int JSON = 114;
    public static final int FLOAT4 = 700;
    public static final int FLOAT8 = 701;
    public static final int UNKNOWN = 705;
    public static final int BPCHAR = 1042;
    public static final int VARCHAR = 1043;
    public static final int NUMERIC = 1700;
    public static final int JSONB = 3802;

    private static final Map<Integer, ValueType> BUILT_IN = Map.ofEntries(
            entry(TEXT, "text", Kind.TEXT),
            entry(VARCHAR, "varchar", Kind.TEXT),
            entry(BPCHAR, "bpchar", Kind.TEXT),
            entry(NAME, "name", Kind.TEXT),
            entry(UNKNOWN, "unknown", Kind.TEXT),
            entry(JSON, "json", Kind.JSON),
            entry(JSONB, "jsonb", Kind.JSON),
            entry(INT2, "int2", Kind.NUMBER),
            entry(INT4, "int4", Kind.NUMBER),
            entry(INT8, "int8", Kind.NUMBER),
            entry(OID, "oid", Kind.NUMBER),
            entry(NUMERIC, "numeric", Kind.NUMBER),
            entry(FLOAT4, "float4", Kind.NUMBER),
            entry(FLOAT8, "float8", Kind.NUMBER),
            // "char" is one byte: a masked string longer than that is not a valid value.
            entry(CHAR, "char", Kind.OTHER),
            entry(BOOL, "bool", Kind.OTHER),
            entry(BYTEA, "bytea", Kind.OTHER),
            entry(142, "xml", Kind.OTHER),
            entry(790, "money", Kind.OTHER),
            entry(869, "inet", Kind.OTHER),
            entry(650, "cidr", Kind.OTHER),
            entry(829, "macaddr", Kind.OTHER),
            entry(1082, "date", Kind.OTHER),
            entry(1083, "time", Kind.OTHER),
            entry(1114, "timestamp", Kind.OTHER),
            entry(1184, "timestamptz", Kind.OTHER),
            entry(1186, "interval", Kind.OTHER),
            entry(1266, "timetz", Kind.OTHER),
            entry(2950, "uuid", Kind.OTHER),
            entry(4072, "jsonpath", Kind.OTHER));

    /** Types known by name only (their OIDs vary by database) that take any string. */
    private static final Map<String, Kind> BY_NAME = Map.of("citext", Kind.TEXT);

    private ValueTypes() {
    }

    private static Map.Entry<Integer, ValueType> entry(int oid, String name, Kind kind) {
        return Map.entry(oid, new ValueType(oid, name, kind));
    }

    /** The built-in type with this OID, or {@code OTHER} named "unknown". */
    public static ValueType of(int typeOid) {
        ValueType known = BUILT_IN.get(typeOid);
        return known != null ? known : new ValueType(typeOid, "unknown", Kind.OTHER);
    }

    /**
     * The built-in type with this OID; otherwise a type of that name, {@code TEXT} for the
     * names known to take any string (citext) and {@code OTHER} for the rest.
     */
    public static ValueType of(int typeOid, String name) {
        ValueType known = BUILT_IN.get(typeOid);
        if (known != null) {
            return known;
        }
        if (name == null || name.isEmpty()) {
            return of(typeOid);
        }
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        return new ValueType(typeOid, lower, BY_NAME.getOrDefault(lower, Kind.OTHER));
    }
}
