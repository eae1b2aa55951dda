package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import java.util.List;
import java.util.Set;

/**
 * What one statement's result may carry, decided before it runs; the relay applies it to
 * the RowDescription the upstream sends ({@link #column}). Immutable.
 *
 * @param tainted         per output position (the statement's select list), whether the
 *                        value derives from a masked column; null when the positions cannot
 *                        be matched to result columns (a {@code *} in the list)
 * @param counts          per output position, whether it is a {@code count(...)}
 * @param taintedNames    names of values derived from masked columns (for results whose
 *                        positions cannot be matched: a computed column of one of these names
 *                        is masked)
 * @param allComputed     every computed column (table OID 0) is masked: the rows come from
 *                        code no analysis follows (user functions) or from views that read
 *                        masked columns
 * @param withholdNotices notices are raised by such code: their texts are withheld
 */
public record ResultMask(MaskingCatalog catalog, MaskRules rules, boolean[] tainted, boolean[] counts,
                         Set<String> taintedNames, boolean allComputed, boolean withholdNotices) {

    /** What a column of the result gets. */
    public sealed interface Action {
    }

    /** Sent as it is (the content detectors may still look at it). */
    public record Pass() implements Action {
    }

    /** Replaced by this masker's result. */
    public record Mask(String maskerName, Masker masker) implements Action {
    }

    public static final Action PASS = new Pass();

    /** Only content detection (policies with detect rules and no column rules, or none of them touched). */
    public static ResultMask detectionOnly(MaskRules rules) {
        return new ResultMask(MaskingCatalog.EMPTY, rules, null, null, Set.of(), false, false);
    }

    /**
     * Whether the result's rows could carry a masked value: some output derives from one, a
     * {@code *} or whole row could hold one, the rows come from code no analysis follows, or
     * content detection applies. When not, the gateway does not even look at the result's
     * description (a masked column can only be reached by its name, a star or a whole row,
     * all of which the lineage sees), and DataRows pass undecoded.
     */
    public boolean needsRows() {
        if (allComputed || tainted == null || !rules.detection().isEmpty()) {
            return true;
        }
        for (boolean t : tainted) {
            if (t) {
                return true;
            }
        }
        return false;
    }

    /**
     * The action for result column {@code index} of {@code columnCount}, from its
     * RowDescription fields.
     */
    public Action column(int index, int columnCount, int tableOid, int attnum, String name) {
        if (tableOid != 0) {
            int rule = catalog.ruleFor(tableOid, attnum);
            if (rule >= 0) {
                MaskRules.ColumnRule r = rules.columns().get(rule);
                return new Mask(r.maskerName(), r.masker());
            }
            if (catalog.isTaintedView(tableOid) || (attnum == 0 && catalog.hasMaskedColumns(tableOid))) {
                return derived(); // a view's value computed from masked columns, or a whole row holding one
            }
            return PASS;
        }
        boolean mapped = tainted != null && tainted.length == columnCount;
        if (mapped && counts[index]) {
            return PASS;
        }
        if (allComputed) {
            return derived();
        }
        if (mapped) {
            return tainted[index] ? derived() : PASS;
        }
        return taintedNames.contains(name) ? derived() : PASS;
    }

    private Action derived() {
        return new Mask("derived (" + MaskingPlanner.DERIVED_MASKER + ")", rules.derived());
    }

    /** Whether errors and notices of this statement may quote masked values. */
    public boolean touchesMaskedData() {
        return allComputed || !taintedNames.isEmpty() || withholdNotices;
    }

    @Override
    public String toString() {
        return "ResultMask[tainted=" + (tainted == null ? "unmapped" : java.util.Arrays.toString(tainted))
                + ", names=" + taintedNames + ", allComputed=" + allComputed + "]";
    }

    /** The masks of one Query (a statement each, in order) or Parse (one). */
    public record Plan(List<ResultMask> statements) {
        /** Nothing to inspect: DataRows pass undecoded. */
        public static final Plan NONE = new Plan(List.of());

        public Plan {
            statements = List.copyOf(statements);
        }

        public boolean inspects() {
            return !statements.isEmpty();
        }

        /**
         * For a portal that may run either of two statements (the gateway cannot tell which
         * version of a name the upstream holds): when they differ, every computed column of
         * whichever runs is masked.
         */
        public static Plan either(Plan a, Plan b) {
            if (!a.inspects() || a.equals(b)) {
                return b;
            }
            if (!b.inspects()) {
                return a;
            }
            ResultMask m = a.statement(0);
            return new Plan(List.of(new ResultMask(m.catalog(), m.rules(), null, null, m.taintedNames(), true, true)));
        }

        /** The mask of the {@code i}-th statement; a statement beyond the list gets the last one's. */
        public ResultMask statement(int i) {
            return statements.get(Math.min(i, statements.size() - 1));
        }
    }
}
