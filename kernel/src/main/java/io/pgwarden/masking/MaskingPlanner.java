package io.pgwarden.masking;

import io.pgwarden.analysis.AnalyzedStatement;
import io.pgwarden.analysis.Command;
import io.pgwarden.analysis.FunctionRef;
import io.pgwarden.analysis.OutputLineage;
import io.pgwarden.analysis.RelationRef;
import io.pgwarden.analysis.StatementAnalysis;
import io.pgwarden.analysis.StatementDetail;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One session's masking decisions (DESIGN §7): for each statement, before it runs, what its
 * result may carry ({@link ResultMask}), or why it must not run at all. Pure and synchronous,
 * like the policy gate that calls it: the statement analysis and its lineage, the catalog
 * read at login and the policy's rules in, a decision out.
 *
 * <p>Refused while column rules apply, because no masking could hold: statements that would
 * store values derived from masked columns elsewhere (INSERT … SELECT, UPDATE … SET x =
 * masked, CREATE TABLE AS, SELECT INTO, MERGE), COPY … TO of masked data (use SELECT),
 * {@code DO} blocks (their code is not analysed and can raise any value as a notice),
 * {@code pg_notify} or {@code set_config} in a statement that reads masked data (the value
 * would reach a listener or a reported setting), and with {@code mask_predicates: deny},
 * statements that filter, join, group or order on a masked column.
 *
 * <p>Lives on the session's event loop; not thread-safe.
 */
public final class MaskingPlanner {
    /** The masker for derived values. */
    public static final String DERIVED_MASKER = "redact";
    /** SQL-level prepared statements and cursors remembered, beyond which the oldest are forgotten (then masked as opaque). */
    static final int MAX_REMEMBERED = 10_000;

    private final MaskRules rules;
    private final Set<String> maskedNames;
    private MaskingCatalog catalog = MaskingCatalog.EMPTY;
    /** The schemas an unqualified relation may resolve to; a null element means "any schema". */
    private final Function<RelationRef, List<String>> schemasOf;
    private final Map<String, ResultMask> prepared = new HashMap<>();
    private final Map<String, ResultMask> cursors = new HashMap<>();

    /** Why a statement is refused: a message and a hint for the client. */
    public record Refusal(String message, String hint) {
    }

    /** The decision for one Query or Parse: a plan, or a refusal. */
    public record Decision(ResultMask.Plan plan, Refusal refusal) {
    }

    /** Where each statement's values come from (the analyzer's, cached). */
    private final Function<AnalyzedStatement, OutputLineage> lineages;

    public MaskingPlanner(MaskRules rules, Function<RelationRef, List<String>> schemasOf,
                          Function<AnalyzedStatement, OutputLineage> lineages) {
        this.lineages = lineages;
        this.rules = rules;
        this.maskedNames = rules.maskedColumnNames();
        this.schemasOf = schemasOf;
    }

    /** The catalog read at login; until then (and for policies without column rules) nothing is known masked. */
    public void catalog(MaskingCatalog catalog) {
        this.catalog = catalog;
    }

    public boolean active() {
        return !rules.isEmpty();
    }

    /** Decides every statement of a Query or Parse; remembers SQL-level PREPAREs and cursors of allowed ones. */
    public Decision decide(List<AnalyzedStatement> statements) {
        if (!active()) {
            return new Decision(ResultMask.Plan.NONE, null);
        }
        List<ResultMask> masks = new ArrayList<>(statements.size());
        boolean inspects = false;
        Map<String, ResultMask> newPrepared = new HashMap<>();
        Map<String, ResultMask> newCursors = new HashMap<>();
        for (AnalyzedStatement s : statements) {
            StatementAnalysis a = s.analysis();
            Refusal refusal;
            ResultMask mask;
            switch (a.detail()) {
                case StatementDetail.Execute e -> {
                    mask = newPrepared.containsKey(e.name()) ? newPrepared.get(e.name()) : remembered(prepared, e.name());
                    refusal = null;
                }
                case StatementDetail.Fetch f -> {
                    mask = newCursors.containsKey(f.cursor()) ? newCursors.get(f.cursor()) : remembered(cursors, f.cursor());
                    refusal = null;
                }
                default -> {
                    OutputLineage lineage = lineages.apply(s);
                    if (lineage == null) {
                        // Cannot happen for a statement that was just analysed; if it does, refuse.
                        return new Decision(null, new Refusal("the statement's values could not be traced for masking",
                                "Simplify the statement."));
                    }
                    Taint taint = taint(a, lineage);
                    refusal = refusal(a, lineage, taint);
                    mask = taint.mask(lineage);
                }
            }
            if (refusal != null) {
                return new Decision(null, refusal);
            }
            if (a.detail() instanceof StatementDetail.Prepare p) {
                newPrepared.put(p.name(), mask);
            } else if (a.detail() instanceof StatementDetail.Declare d) {
                newCursors.put(d.cursor(), mask);
            }
            inspects |= mask != null;
            masks.add(mask != null ? mask : passing());
        }
        remember(prepared, newPrepared);
        remember(cursors, newCursors);
        return new Decision(inspects || !rules.detection().isEmpty() ? new ResultMask.Plan(masks) : ResultMask.Plan.NONE, null);
    }

    private static void remember(Map<String, ResultMask> into, Map<String, ResultMask> added) {
        if (into.size() + added.size() > MAX_REMEMBERED) {
            into.clear(); // forgotten names are then masked as opaque: safe, if blunt
        }
        into.putAll(added);
    }

    /** A statement run by name: its remembered mask, or, unknown (made before the gateway saw it, or forgotten), opaque. */
    private ResultMask remembered(Map<String, ResultMask> masks, String name) {
        ResultMask mask = masks.get(name);
        if (mask != null || !rules.hasColumnRules()) {
            return mask;
        }
        return new ResultMask(catalog, rules, null, null, Set.of(), true, true);
    }

    private ResultMask passing() {
        return rules.detection().isEmpty()
                ? new ResultMask(MaskingCatalog.EMPTY, rules, null, null, Set.of(), false, false)
                : ResultMask.detectionOnly(rules);
    }

    /** What in a statement derives from masked data. */
    private final class Taint {
        final boolean touches;
        final boolean opaque;
        final Set<String> names = new HashSet<>();
        final Set<String> aliases = new HashSet<>();

        Taint(boolean touches, boolean opaque) {
            this.touches = touches;
            this.opaque = opaque;
        }

        boolean of(OutputLineage.Refs r) {
            if (!touches) {
                return false;
            }
            for (String c : r.columns()) {
                if (names.contains(c)) {
                    return true;
                }
            }
            for (String w : r.wholeRows()) {
                if (aliases.contains(w)) {
                    return true;
                }
            }
            return r.anyStar() && !aliases.isEmpty();
        }

        boolean any(List<OutputLineage.Output> outputs) {
            return outputs.stream().anyMatch(o -> !o.count() && of(o.refs()));
        }

        /** The result's mask, or null when the result cannot carry masked data. */
        ResultMask mask(OutputLineage lineage) {
            if (!touches && !opaque) {
                return null;
            }
            List<OutputLineage.Output> outputs = lineage.outputs();
            boolean mappable = outputs.stream().noneMatch(OutputLineage.Output::star);
            boolean[] tainted = null;
            boolean[] counts = null;
            if (mappable) {
                tainted = new boolean[outputs.size()];
                counts = new boolean[outputs.size()];
                for (int i = 0; i < outputs.size(); i++) {
                    counts[i] = outputs.get(i).count();
                    tainted[i] = !counts[i] && of(outputs.get(i).refs());
                }
            }
            return new ResultMask(catalog, rules, tainted, counts, Set.copyOf(names), opaque || taintedViews, opaque);
        }

        boolean taintedViews;
    }

    private Taint taint(StatementAnalysis a, OutputLineage lineage) {
        boolean maskedRelation = false;
        boolean taintedView = false;
        Set<String> maskedRelationNames = new HashSet<>();
        for (RelationRef r : a.relations()) {
            for (String schema : schemasOf.apply(r)) {
                boolean masked = schema == null ? catalog.anyRelationNamed(r.name()) : catalog.isMaskedRelation(schema, r.name());
                boolean view = schema != null && catalog.isTaintedView(schema, r.name());
                if (masked || view) {
                    maskedRelation |= masked;
                    taintedView |= view || (schema == null && masked);
                    maskedRelationNames.add(r.name());
                }
            }
        }
        boolean opaque = a.command() == Command.CALL;
        for (FunctionRef f : a.functions()) {
            if ((f.schema() == null || !f.schema().equals("pg_catalog")) && catalog.isUserFunction(f.name())) {
                opaque = true;
            }
        }
        if (lineage.opaqueSources() && rules.hasColumnRules()) {
            // Rows from functions in FROM: a set-returning built-in is harmless, a user one is not;
            // both are covered by the function check above, except built-ins over masked arguments.
            opaque |= maskedRelation || taintedView;
        }
        Taint t = new Taint(maskedRelation || taintedView, opaque && rules.hasColumnRules());
        t.taintedViews = taintedView;
        if (!t.touches) {
            return t;
        }
        if (maskedRelation) {
            t.names.addAll(maskedNames);
        }
        for (OutputLineage.Alias alias : lineage.aliases().values()) {
            if (alias.relation() != null && maskedRelationNames.contains(alias.relation().name())) {
                t.aliases.add(alias.name());
            }
        }
        // Names derived from tainted values, until nothing changes (each pass adds at least one or stops).
        boolean changed = true;
        while (changed) {
            changed = false;
            for (OutputLineage.Derivation d : lineage.derivations()) {
                if (!t.names.contains(d.name()) && t.of(d.refs())) {
                    t.names.add(d.name());
                    changed = true;
                }
            }
            for (OutputLineage.Alias alias : lineage.aliases().values()) {
                if (!t.aliases.contains(alias.name()) && alias.relation() == null && t.of(alias.refs())) {
                    t.aliases.add(alias.name());
                    changed = true;
                }
            }
        }
        if (taintedView) {
            // A view's columns are not known by name here: every value read through it counts.
            t.names.add("*");
        }
        return t;
    }

    private Refusal refusal(StatementAnalysis a, OutputLineage lineage, Taint t) {
        if (!rules.hasColumnRules()) {
            return null;
        }
        if (a.commands().contains(Command.DO)) {
            return new Refusal("DO blocks are not allowed while masking applies: their code is not analysed",
                    "Run the statements themselves, or use a policy without mask rules.");
        }
        if (lineage.definesCode()) {
            // A function, trigger or rule made now would run later, reading masked columns where no
            // statement names them (and its name is not among the functions read at login).
            return new Refusal("creating functions, procedures, triggers or rules is not allowed while masking applies",
                    "Their code is not analysed; ask for them to be created outside the masked policy.");
        }
        if (!t.touches) {
            return null;
        }
        if (a.has(StatementAnalysis.Flag.DDL)) {
            // A view over a masked column, a generated column copying one, a renamed column: each would
            // carry masked values under OIDs or names the catalog read at login does not know.
            return new Refusal("changing or creating objects over masked columns is not allowed while masking applies",
                    "Schema changes to masked tables belong outside the masked policy.");
        }
        boolean viaView = t.names.contains("*");
        if (a.commands().contains(Command.MERGE)) {
            return new Refusal("MERGE that reads masked data is not allowed", "Use INSERT or UPDATE without masked columns.");
        }
        if (viaView ? !lineage.written().isEmpty() : t.any(lineage.written())) {
            return new Refusal("the statement would store values derived from masked columns",
                    "Masked values cannot be copied to other tables or columns through pgwarden.");
        }
        if (a.detail() instanceof StatementDetail.Copy c && !c.from() && (viaView || t.any(lineage.outputs())
                || lineage.outputs().stream().anyMatch(OutputLineage.Output::star))) {
            return new Refusal("COPY ... TO of masked data is not allowed",
                    "Use SELECT: its results are masked.");
        }
        for (FunctionRef f : a.functions()) {
            if (f.name().equals("pg_notify") || f.name().equals("set_config")) {
                return new Refusal("function " + f.name() + " is not allowed in a statement that reads masked data",
                        "Its argument would reach another session or a reported setting unmasked.");
            }
        }
        if (rules.denyPredicates() && (viaView || t.of(lineage.predicates()))) {
            return new Refusal("filtering, joining, grouping or ordering on a masked column is not allowed (mask_predicates: deny)",
                    "Conditions on masked columns reveal their values by inference.");
        }
        return null;
    }
}
