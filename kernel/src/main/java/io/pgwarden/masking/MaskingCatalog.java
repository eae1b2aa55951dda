package io.pgwarden.masking;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the upstream database says about a policy's masked columns, read once per session
 * right after login (on the session's own connection, so with its own visibility): the
 * OID and attribute number of every masked column, also in partitions and inheritance
 * children of a masked table (where a column of the same name carries the same data), the
 * views and materialized views that read a masked column directly or through other views,
 * and the names of functions outside the system catalogs (whose bodies no analysis sees).
 *
 * <p>Result columns are matched by the table OID and attribute number of their
 * RowDescription, so aliases and {@code SELECT *} are covered whatever the text says.
 */
public final class MaskingCatalog {

    /** A catalog with nothing masked: for sessions of policies without mask rules. */
    public static final MaskingCatalog EMPTY = new MaskingCatalog(Map.of(), Set.of(), Set.of(), Set.of(), Set.of());

    /** (table OID, attnum) → index of the rule in {@link MaskRules#columns()}. */
    private final Map<Long, Integer> maskedColumns;
    private final Set<Integer> taintedViews;
    /** {@code schema.name} of masked tables (with their partitions and children) and of tainted views. */
    private final Set<String> maskedRelations;
    private final Set<String> taintedViewNames;
    private final Set<String> userFunctions;

    MaskingCatalog(Map<Long, Integer> maskedColumns, Set<Integer> taintedViews, Set<String> maskedRelations,
                   Set<String> taintedViewNames, Set<String> userFunctions) {
        this.maskedColumns = Map.copyOf(maskedColumns);
        this.taintedViews = Set.copyOf(taintedViews);
        this.maskedRelations = Set.copyOf(maskedRelations);
        this.taintedViewNames = Set.copyOf(taintedViewNames);
        this.userFunctions = Set.copyOf(userFunctions);
    }

    /**
     * The query that reads the catalog for these rules: one row per fact, {@code kind, oid,
     * attnum, rule, schema, name}. Kinds: {@code c} a masked column (rule = its index), {@code v}
     * a view or materialized view that reads one, {@code f} a function outside pg_catalog and
     * information_schema (by name). Names from the configuration are passed as escaped string
     * literals ({@code E'…'}, which means the same whatever standard_conforming_strings says).
     */
    public static String probeSql(MaskRules rules) {
        StringBuilder values = new StringBuilder();
        List<MaskRules.ColumnRule> columns = rules.columns();
        for (int i = 0; i < columns.size(); i++) {
            MaskRules.ColumnRule c = columns.get(i);
            if (!values.isEmpty()) {
                values.append(", ");
            }
            values.append('(').append(literal(c.schema())).append(", ").append(literal(c.table())).append(", ")
                    .append(literal(c.column())).append(", ").append(i).append(')');
        }
        String masked = values.isEmpty()
                ? "SELECT NULL::pg_catalog.oid AS relid, NULL::pg_catalog.int2 AS attnum, NULL::pg_catalog.int4 AS rule WHERE false"
                : """
                SELECT c.oid AS relid, a.attnum, m.rule
                  FROM (VALUES %s) AS m(nsp, rel, att, rule)
                  JOIN pg_catalog.pg_namespace n ON n.nspname = m.nsp
                  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = m.rel
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = m.att AND a.attnum > 0 AND NOT a.attisdropped
                """.formatted(values);
        return """
                WITH RECURSIVE masked(relid, attnum, rule) AS (
                  %s
                  UNION
                  SELECT i.inhrelid, a.attnum, m.rule
                    FROM masked m
                    JOIN pg_catalog.pg_inherits i ON i.inhparent = m.relid
                    JOIN pg_catalog.pg_attribute pa ON pa.attrelid = m.relid AND pa.attnum = m.attnum
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.inhrelid AND a.attname = pa.attname AND NOT a.attisdropped
                ), views(relid) AS (
                  SELECT r.ev_class
                    FROM pg_catalog.pg_depend d
                    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
                    JOIN masked m ON m.relid = d.refobjid AND m.attnum = d.refobjsubid
                   WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND r.ev_class <> d.refobjid
                  UNION
                  SELECT r.ev_class
                    FROM views v
                    JOIN pg_catalog.pg_depend d ON d.refobjid = v.relid
                    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
                   WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND r.ev_class <> v.relid
                )
                SELECT 'c', m.relid::pg_catalog.int8, m.attnum::pg_catalog.int4, m.rule, n.nspname::pg_catalog.text, c.relname::pg_catalog.text
                  FROM masked m JOIN pg_catalog.pg_class c ON c.oid = m.relid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                UNION ALL
                SELECT DISTINCT 'v', v.relid::pg_catalog.int8, 0, -1, n.nspname::pg_catalog.text, c.relname::pg_catalog.text
                  FROM views v JOIN pg_catalog.pg_class c ON c.oid = v.relid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                UNION ALL
                SELECT DISTINCT 'f', 0, 0, -1, '', p.proname::pg_catalog.text
                  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                """.formatted(masked.strip());
    }

    private static String literal(String s) {
        return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** Builds the catalog from the rows of {@link #probeSql}, as text. */
    public static MaskingCatalog fromRows(List<List<String>> rows) {
        Map<Long, Integer> columns = new HashMap<>();
        Set<Integer> views = new HashSet<>();
        Set<String> relations = new HashSet<>();
        Set<String> viewNames = new HashSet<>();
        Set<String> functions = new HashSet<>();
        for (List<String> row : rows) {
            if (row.size() != 6 || row.get(0) == null) {
                throw new IllegalArgumentException("unexpected masking catalog row");
            }
            switch (row.get(0)) {
                case "c" -> {
                    int oid = (int) Long.parseLong(row.get(1));
                    columns.merge(key(oid, Integer.parseInt(row.get(2))), Integer.parseInt(row.get(3)), Math::min);
                    relations.add(row.get(4) + "." + row.get(5));
                }
                case "v" -> {
                    views.add((int) Long.parseLong(row.get(1)));
                    viewNames.add(row.get(4) + "." + row.get(5));
                }
                case "f" -> functions.add(row.get(5));
                default -> throw new IllegalArgumentException("unexpected masking catalog row kind");
            }
        }
        return new MaskingCatalog(columns, views, relations, viewNames, functions);
    }

    static long key(int tableOid, int attnum) {
        return ((long) tableOid << 16) | (attnum & 0xffff);
    }

    /** Whether the table holds a masked column: a whole-row value of it (attnum 0) carries it. */
    public boolean hasMaskedColumns(int tableOid) {
        for (long key : maskedColumns.keySet()) {
            if ((int) (key >>> 16) == tableOid) {
                return true;
            }
        }
        return false;
    }

    /** The index of the column rule that masks this result column, or -1. */
    public int ruleFor(int tableOid, int attnum) {
        Integer rule = maskedColumns.get(key(tableOid, attnum));
        return rule == null ? -1 : rule;
    }

    public boolean isTaintedView(int tableOid) {
        return taintedViews.contains(tableOid);
    }

    /** Whether {@code schema.name} is a masked table (or a partition or child of one). */
    public boolean isMaskedRelation(String schema, String name) {
        return maskedRelations.contains(schema + "." + name);
    }

    public boolean isTaintedView(String schema, String name) {
        return taintedViewNames.contains(schema + "." + name);
    }

    /** Whether a relation of this name exists, masked or tainted, in some schema: for names whose schema is unknown. */
    public boolean anyRelationNamed(String name) {
        String suffix = "." + name;
        return maskedRelations.stream().anyMatch(r -> r.endsWith(suffix)) || taintedViewNames.stream().anyMatch(r -> r.endsWith(suffix));
    }

    public boolean isUserFunction(String name) {
        return userFunctions.contains(name);
    }

    /** For log lines and tests. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        out.add(maskedColumns.size() + " masked column(s) in " + maskedRelations);
        out.add(taintedViews.size() + " view(s) reading them: " + taintedViewNames);
        out.add(userFunctions.size() + " user function name(s)");
        return out;
    }
}
