package io.pgwarden.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a statement's values come from, by name, for masking (DESIGN §7): which column names
 * and whole-row references each result column is computed from, which names subqueries,
 * CTEs and alias lists give to computed values, which values a write stores, and which
 * columns filter, join, group or order. It knows no catalog and no policy; the masking
 * planner joins it with both.
 *
 * <p>It is deliberately conservative: an expression depends on every column reference
 * anywhere inside it, sub-selects included (a scalar sub-select in the select list, a CASE
 * that tests a column, a function argument), and names are compared without their
 * qualifiers, so a column of another table with a masked column's name counts as masked.
 * That can mask a value that was harmless, never the reverse.
 *
 * @param outputs     the columns the statement returns, in order: a SELECT's target list
 *                    (for a set operation, position by position over every branch), the
 *                    RETURNING list of a write, the query of a DECLARE, PREPARE or
 *                    EXPLAIN-less COPY; empty when it returns no rows of its own
 * @param written     values the statement stores: an INSERT's source columns, UPDATE's and
 *                    ON CONFLICT's SET values, a CREATE TABLE AS / SELECT INTO query's
 *                    columns
 * @param derivations names that sub-selects, CTEs and alias lists give to values
 * @param aliases     every FROM item by the name a whole-row reference would use
 * @param predicates  columns referenced in WHERE, JOIN ... ON/USING, GROUP BY, HAVING,
 *                    ORDER BY, window clauses and DISTINCT ON, anywhere in the statement
 * @param opaqueSources the statement reads rows from set-returning functions in FROM
 *                    (whose columns no analysis can follow)
 * @param definesCode the statement creates code that runs later, unseen by the analysis:
 *                    CREATE FUNCTION/PROCEDURE, CREATE TRIGGER, CREATE RULE, CREATE EVENT TRIGGER
 */
public record OutputLineage(List<Output> outputs, List<Output> written, List<Derivation> derivations,
                            Map<String, Alias> aliases, Refs predicates, boolean opaqueSources, boolean definesCode) {

    /** Nothing returned, nothing derived: statements that are not queries. */
    public static final OutputLineage NONE = new OutputLineage(List.of(), List.of(), List.of(), Map.of(),
            Refs.EMPTY, false, false);

    private static final java.util.Set<String> CODE_DEFINITIONS = java.util.Set.of("CreateFunctionStmt", "CreateTrigStmt",
            "RuleStmt", "CreateEventTrigStmt");

    /**
     * Column and whole-row references.
     *
     * @param columns   column names referenced (the last part of a qualified name; a lone
     *                  name may also be a whole-row reference, and is listed in both)
     * @param wholeRows qualifiers referenced as whole rows ({@code t}, {@code t.*}, a lone name)
     * @param anyStar   an unqualified {@code *} outside {@code count(*)}: every FROM item's row
     */
    public record Refs(Set<String> columns, Set<String> wholeRows, boolean anyStar) {
        public static final Refs EMPTY = new Refs(Set.of(), Set.of(), false);

        public Refs {
            columns = Set.copyOf(columns);
            wholeRows = Set.copyOf(wholeRows);
        }

        public boolean isEmpty() {
            return columns.isEmpty() && wholeRows.isEmpty() && !anyStar;
        }
    }

    /**
     * One value of the result or of a write.
     *
     * @param name  the column name PostgreSQL gives it (the alias, or what the expression is
     *              named after); {@code *} for a star
     * @param refs  what it is computed from
     * @param count it is {@code count(...)}: a number of rows, whatever it counts
     * @param star  it is {@code *} or {@code t.*}, which stands for several columns
     */
    public record Output(String name, Refs refs, boolean count, boolean star) {
    }

    /** A name given to a value inside the statement (a sub-select's column, a CTE's or alias list's column). */
    public record Derivation(String name, Refs refs) {
    }

    /**
     * A FROM item, by the name that refers to its rows.
     *
     * @param relation the table or view it reads, or null for a sub-select, CTE reference or function
     * @param refs     for a sub-select: the references of all its columns
     */
    public record Alias(String name, RelationRef relation, Refs refs) {
    }

    /** The lineage of one statement ({@code stmt} of a RawStmt, a one-key Node object). */
    static OutputLineage of(JsonNode stmt) {
        Collector c = new Collector();
        return c.statement(stmt);
    }

    /** Builds one statement's lineage; fields accumulate over every nested query. */
    private static final class Collector {
        private final List<Derivation> derivations = new ArrayList<>();
        private final Map<String, Alias> aliases = new LinkedHashMap<>();
        private final RefSet predicates = new RefSet();
        private boolean opaque;

        OutputLineage statement(JsonNode wrapped) {
            String type = type(wrapped);
            JsonNode n = type == null ? null : wrapped.get(type);
            List<Output> outputs = List.of();
            List<Output> written = List.of();
            if (type == null) {
                return OutputLineage.NONE;
            }
            switch (type) {
                case "SelectStmt" -> {
                    outputs = select(n);
                    if (n.has("intoClause")) {
                        written = outputs; // SELECT INTO stores the rows instead of returning them
                        outputs = List.of();
                    }
                }
                case "InsertStmt" -> {
                    relation(n.get("relation"), null);
                    JsonNode source = n.get("selectStmt");
                    if (source != null) {
                        written = source.has("SelectStmt") ? select(source.get("SelectStmt")) : List.of();
                    }
                    List<Output> conflictSets = n.path("onConflictClause").has("targetList")
                            ? targets(n.path("onConflictClause").get("targetList")) : List.of();
                    predicates(n.path("onConflictClause").get("whereClause"));
                    written = concat(written, conflictSets);
                    with(n.get("withClause"));
                    outputs = targets(n.get("returningList"));
                }
                case "UpdateStmt" -> {
                    with(n.get("withClause"));
                    relation(n.get("relation"), null);
                    from(n.get("fromClause"));
                    predicates(n.get("whereClause"));
                    written = targets(n.get("targetList"));
                    outputs = targets(n.get("returningList"));
                }
                case "DeleteStmt" -> {
                    with(n.get("withClause"));
                    relation(n.get("relation"), null);
                    from(n.get("usingClause"));
                    predicates(n.get("whereClause"));
                    outputs = targets(n.get("returningList"));
                }
                case "MergeStmt" -> {
                    // Every value a MERGE may store: its source's columns could be anything.
                    with(n.get("withClause"));
                    relation(n.get("relation"), null);
                    fromItem(n.get("sourceRelation"));
                    predicates(n.get("joinCondition"));
                    List<Output> values = new ArrayList<>();
                    for (JsonNode when : n.path("mergeWhenClauses")) {
                        JsonNode w = when.get("MergeWhenClause");
                        if (w != null) {
                            values.addAll(targets(w.get("targetList")));
                            for (JsonNode v : w.path("values")) {
                                values.add(new Output("?column?", refs(v), false, false));
                            }
                            predicates(w.get("condition"));
                        }
                    }
                    written = values;
                }
                case "CreateTableAsStmt" -> {
                    OutputLineage inner = statement(n.get("query"));
                    written = inner.outputs().isEmpty() ? inner.written() : inner.outputs();
                }
                case "DeclareCursorStmt", "PrepareStmt" -> {
                    OutputLineage inner = statement(n.get("query"));
                    outputs = inner.outputs();
                    written = inner.written();
                }
                case "CopyStmt" -> {
                    if (n.has("query")) {
                        outputs = statement(n.get("query")).outputs();
                    } else if (n.has("relation")) {
                        relation(n.get("relation"), null);
                        outputs = List.of(new Output("*", new Refs(Set.of(), Set.of(relationName(n.get("relation"))), false),
                                false, true));
                    }
                }
                case "ExplainStmt" -> {
                    // EXPLAIN returns the plan, not the rows; EXPLAIN ANALYZE of a write stores what the write stores.
                    OutputLineage inner = statement(n.get("query"));
                    written = inner.written();
                }
                default -> {
                    return new OutputLineage(List.of(), List.of(), List.of(), Map.of(), Refs.EMPTY, false,
                            CODE_DEFINITIONS.contains(type));
                }
            }
            return new OutputLineage(outputs, written, derivations, aliases, predicates.build(), opaque, false);
        }

        /** A SelectStmt body (no wrapper): its output columns. */
        private List<Output> select(JsonNode n) {
            if (n == null) {
                return List.of();
            }
            with(n.get("withClause"));
            String op = n.path("op").asText("SETOP_NONE");
            if (!"SETOP_NONE".equals(op)) {
                List<Output> left = select(n.get("larg"));
                List<Output> right = select(n.get("rarg"));
                predicates(n.get("sortClause"));
                return merge(left, right);
            }
            if (n.has("valuesLists")) {
                List<Output> columns = new ArrayList<>();
                for (JsonNode row : n.get("valuesLists")) {
                    List<Output> values = new ArrayList<>();
                    for (JsonNode v : row.path("List").path("items")) {
                        values.add(new Output("column" + (values.size() + 1), refs(v), false, false));
                    }
                    columns = columns.isEmpty() ? values : merge(columns, values);
                }
                return columns;
            }
            from(n.get("fromClause"));
            predicates(n.get("whereClause"));
            predicates(n.get("groupClause"));
            predicates(n.get("havingClause"));
            predicates(n.get("sortClause"));
            predicates(n.get("windowClause"));
            predicates(n.get("distinctClause"));
            return targets(n.get("targetList"));
        }

        private static List<Output> merge(List<Output> left, List<Output> right) {
            List<Output> merged = new ArrayList<>(Math.max(left.size(), right.size()));
            for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
                Output l = i < left.size() ? left.get(i) : null;
                Output r = i < right.size() ? right.get(i) : null;
                if (l == null || r == null) {
                    merged.add(l != null ? l : r);
                    continue;
                }
                RefSet both = new RefSet();
                both.add(l.refs());
                both.add(r.refs());
                // A set operation's column is named after its first branch; it counts only if both sides do.
                merged.add(new Output(l.name(), both.build(), l.count() && r.count(), l.star() || r.star()));
            }
            return merged;
        }

        private static List<Output> concat(List<Output> a, List<Output> b) {
            if (b.isEmpty()) {
                return a;
            }
            List<Output> all = new ArrayList<>(a);
            all.addAll(b);
            return all;
        }

        private void with(JsonNode withClause) {
            if (withClause == null) {
                return;
            }
            for (JsonNode cte : withClause.path("ctes")) {
                JsonNode c = cte.get("CommonTableExpr");
                if (c == null) {
                    continue;
                }
                OutputLineage inner = statement(c.get("ctequery"));
                List<Output> columns = inner.outputs();
                String name = c.path("ctename").asText();
                named(name, columns, c.get("aliascolnames"), null);
            }
        }

        /** Records a FROM item's (or CTE's) columns under their names and the item under its alias. */
        private void named(String alias, List<Output> columns, JsonNode aliasColumns, RelationRef relation) {
            RefSet all = new RefSet();
            for (Output o : columns) {
                all.add(o.refs());
                if (!o.star()) {
                    derivations.add(new Derivation(o.name(), o.refs()));
                }
            }
            Refs allRefs = all.build();
            if (aliasColumns != null) {
                // t(a, b, c) renames columns by position; which is which needs the catalog, so each new
                // name stands for all of the item's columns (or the whole relation's row).
                Refs renamed = relation != null
                        ? new Refs(Set.of(), Set.of(alias), false) : allRefs;
                for (JsonNode col : aliasColumns) {
                    String name = col.path("String").path("sval").asText(null);
                    if (name != null) {
                        derivations.add(new Derivation(name, renamed));
                    }
                }
            }
            if (alias != null) {
                aliases.put(alias, new Alias(alias, relation, allRefs));
            }
        }

        private void from(JsonNode fromClause) {
            if (fromClause == null) {
                return;
            }
            for (JsonNode item : fromClause) {
                fromItem(item);
            }
        }

        private void fromItem(JsonNode wrapped) {
            String type = type(wrapped);
            if (type == null) {
                return;
            }
            JsonNode n = wrapped.get(type);
            switch (type) {
                case "RangeVar" -> relation(n, n.get("alias"));
                case "RangeSubselect" -> {
                    List<Output> columns = statement(n.get("subquery")).outputs();
                    named(n.path("alias").path("aliasname").asText(null), columns, n.path("alias").get("colnames"), null);
                }
                case "JoinExpr" -> {
                    fromItem(n.get("larg"));
                    fromItem(n.get("rarg"));
                    predicates(n.get("quals"));
                    for (JsonNode using : n.path("usingClause")) {
                        String col = using.path("String").path("sval").asText(null);
                        if (col != null) {
                            predicates.columns.add(col);
                        }
                    }
                    JsonNode alias = n.get("alias");
                    if (alias != null) {
                        // A join's alias stands for the rows of both sides.
                        RefSet sides = new RefSet();
                        sides.wholeRows.addAll(aliases.keySet());
                        named(alias.path("aliasname").asText(null), List.of(new Output("*", sides.build(), false, true)),
                                alias.get("colnames"), null);
                    }
                }
                case "RangeFunction" -> {
                    opaque = true;
                    Refs args = refs(n.get("functions"));
                    String alias = n.path("alias").path("aliasname").asText(null);
                    if (alias == null) {
                        // Without an alias the function's name refers to its rows.
                        for (JsonNode f : n.path("functions")) {
                            for (JsonNode part : f.path("List").path("items")) {
                                JsonNode call = part.get("FuncCall");
                                if (call != null) {
                                    alias = lastName(call.get("funcname"));
                                }
                            }
                        }
                    }
                    named(alias, List.of(new Output("*", args, false, true)), n.path("alias").get("colnames"), null);
                    for (JsonNode col : n.path("coldeflist")) {
                        String name = col.path("ColumnDef").path("colname").asText(null);
                        if (name != null) {
                            derivations.add(new Derivation(name, args));
                        }
                    }
                }
                case "RangeTableSample" -> fromItem(n.get("relation"));
                default -> {
                    // RangeTableFunc (XMLTABLE), JSON_TABLE and the like: read what they reference.
                    opaque = true;
                    Refs r = refs(wrapped);
                    predicates.add(r);
                }
            }
        }

        private void relation(JsonNode rangeVar, JsonNode alias) {
            if (rangeVar == null) {
                return;
            }
            RelationRef ref = new RelationRef(rangeVar.path("schemaname").asText(null), rangeVar.path("relname").asText(),
                    Access.READ);
            String name = alias != null ? alias.path("aliasname").asText(ref.name()) : ref.name();
            named(name, List.of(), alias == null ? null : alias.get("colnames"), ref);
            aliases.put(name, new Alias(name, ref, Refs.EMPTY));
        }

        private static String relationName(JsonNode rangeVar) {
            return rangeVar.path("relname").asText();
        }

        private List<Output> targets(JsonNode targetList) {
            if (targetList == null) {
                return List.of();
            }
            List<Output> outputs = new ArrayList<>();
            for (JsonNode t : targetList) {
                JsonNode rt = t.get("ResTarget");
                if (rt == null) {
                    continue;
                }
                JsonNode val = rt.get("val");
                String star = starQualifier(val);
                if (star != null) {
                    Refs refs = star.isEmpty() ? new Refs(Set.of(), Set.of(), true) : new Refs(Set.of(), Set.of(star), false);
                    outputs.add(new Output("*", refs, false, true));
                    continue;
                }
                String name = rt.has("name") ? rt.get("name").asText() : figureName(val);
                outputs.add(new Output(name, refs(val), isCount(val), false));
            }
            return outputs;
        }

        /** "" for {@code *}, "t" for {@code t.*}, null when the target is not a star. */
        private static String starQualifier(JsonNode val) {
            JsonNode ref = val == null ? null : val.get("ColumnRef");
            if (ref == null) {
                return null;
            }
            JsonNode fields = ref.path("fields");
            if (fields.isEmpty() || !fields.get(fields.size() - 1).has("A_Star")) {
                return null;
            }
            return fields.size() >= 2 ? fields.get(fields.size() - 2).path("String").path("sval").asText("") : "";
        }

        private static boolean isCount(JsonNode val) {
            JsonNode call = val == null ? null : val.get("FuncCall");
            if (call == null || !"count".equals(lastName(call.get("funcname")))) {
                return false;
            }
            JsonNode names = call.get("funcname");
            return names.size() == 1 || "pg_catalog".equals(names.get(0).path("String").path("sval").asText());
        }

        /**
         * The name PostgreSQL gives an unnamed result column (FigureColname in
         * parse_target.c): a column's own name, a function's, a cast's inner name or type, a
         * few keywords; {@code ?column?} otherwise.
         */
        static String figureName(JsonNode val) {
            String type = type(val);
            if (type == null) {
                return "?column?";
            }
            JsonNode n = val.get(type);
            return switch (type) {
                case "ColumnRef" -> {
                    JsonNode fields = n.path("fields");
                    JsonNode last = fields.isEmpty() ? null : fields.get(fields.size() - 1);
                    yield last != null && last.has("String") ? last.path("String").path("sval").asText() : "?column?";
                }
                case "FuncCall" -> lastName(n.get("funcname"));
                case "TypeCast" -> {
                    String inner = figureName(n.get("arg"));
                    yield !"?column?".equals(inner) ? inner : lastName(n.path("typeName").get("names"));
                }
                case "CollateClause" -> figureName(n.get("arg"));
                case "A_Indirection" -> {
                    JsonNode ind = n.path("indirection");
                    JsonNode last = ind.isEmpty() ? null : ind.get(ind.size() - 1);
                    yield last != null && last.has("String") ? last.path("String").path("sval").asText() : figureName(n.get("arg"));
                }
                case "CaseExpr" -> "case";
                case "A_ArrayExpr" -> "array";
                case "RowExpr" -> "row";
                case "CoalesceExpr" -> "coalesce";
                case "MinMaxExpr" -> "IS_GREATEST".equals(n.path("op").asText()) ? "greatest" : "least";
                case "NullIfExpr" -> "nullif";
                case "XmlExpr", "XmlSerialize" -> "xmlserialize".equals(type) ? "xmlserialize" : "?column?";
                case "SubLink" -> {
                    String kind = n.path("subLinkType").asText();
                    if ("EXISTS_SUBLINK".equals(kind)) {
                        yield "exists";
                    }
                    if ("ARRAY_SUBLINK".equals(kind)) {
                        yield "array";
                    }
                    if ("EXPR_SUBLINK".equals(kind)) {
                        JsonNode sub = n.path("subselect").path("SelectStmt").path("targetList");
                        if (sub.size() == 1) {
                            JsonNode rt = sub.get(0).path("ResTarget");
                            yield rt.has("name") ? rt.get("name").asText() : figureName(rt.get("val"));
                        }
                    }
                    yield "?column?";
                }
                case "SQLValueFunction" -> n.path("op").asText("?column?").replaceFirst("^SVFOP_", "").toLowerCase(java.util.Locale.ROOT)
                        .replaceAll("_n$", "");
                case "GroupingFunc" -> "grouping";
                default -> "?column?";
            };
        }

        private void predicates(JsonNode n) {
            if (n != null) {
                predicates.add(refs(n));
            }
        }

        /** Every column and whole-row reference anywhere under {@code n}; sub-selects are also collected as queries. */
        private Refs refs(JsonNode n) {
            RefSet set = new RefSet();
            collect(n, set);
            return set.build();
        }

        private void collect(JsonNode n, RefSet set) {
            if (n == null) {
                return;
            }
            if (n.isArray()) {
                for (JsonNode e : n) {
                    collect(e, set);
                }
                return;
            }
            if (!n.isObject()) {
                return;
            }
            JsonNode ref = n.get("ColumnRef");
            if (ref != null && n.size() == 1) {
                columnRef(ref.path("fields"), set);
                return;
            }
            JsonNode call = n.get("FuncCall");
            if (call != null && n.size() == 1 && call.path("agg_star").asBoolean(false)) {
                // count(*) counts rows; its filter and window still reference columns.
                collect(call.get("agg_filter"), set);
                collect(call.get("over"), set);
                return;
            }
            JsonNode sub = n.get("SelectStmt");
            if (sub != null && n.size() == 1) {
                // A sub-select inside an expression: its result feeds the expression.
                for (Output o : select(sub)) {
                    set.add(o.refs());
                }
                return;
            }
            var fields = n.properties().iterator();
            while (fields.hasNext()) {
                collect(fields.next().getValue(), set);
            }
        }

        private static void columnRef(JsonNode fields, RefSet set) {
            int size = fields.size();
            if (size == 0) {
                return;
            }
            JsonNode last = fields.get(size - 1);
            if (last.has("A_Star")) {
                if (size == 1) {
                    set.anyStar = true;
                } else {
                    set.wholeRows.add(fields.get(size - 2).path("String").path("sval").asText());
                }
                return;
            }
            String name = last.path("String").path("sval").asText(null);
            if (name == null) {
                return;
            }
            set.columns.add(name);
            if (size == 1) {
                set.wholeRows.add(name); // a lone name that is no column is the row of the FROM item so named
            } else {
                // t.c: also record t.c's table part, so that "composite.field" of a whole-row value counts.
                set.columns.add(fields.get(size - 2).path("String").path("sval").asText(""));
            }
        }

        private static String type(JsonNode wrapped) {
            if (wrapped == null || !wrapped.isObject() || wrapped.size() != 1) {
                return null;
            }
            return wrapped.properties().iterator().next().getKey();
        }

        private static String lastName(JsonNode names) {
            if (names == null || names.isEmpty()) {
                return "?column?";
            }
            return names.get(names.size() - 1).path("String").path("sval").asText("?column?");
        }
    }

    /** A mutable set of references while collecting. */
    private static final class RefSet {
        final Set<String> columns = new LinkedHashSet<>();
        final Set<String> wholeRows = new LinkedHashSet<>();
        boolean anyStar;

        void add(Refs r) {
            columns.addAll(r.columns());
            wholeRows.addAll(r.wholeRows());
            anyStar |= r.anyStar();
        }

        Refs build() {
            return columns.isEmpty() && wholeRows.isEmpty() && !anyStar ? Refs.EMPTY : new Refs(columns, wholeRows, anyStar);
        }
    }
}
