package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.PiiDetector;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A policy's masking rules, with their maskers and detectors resolved (DESIGN §7).
 *
 * @param columns        {@code mask: [{ column: schema.table.column, masker }]}, in the file's order
 * @param detection      {@code mask: [{ detect: [...], masker }]}
 * @param derived        the masker for values computed from masked columns (an expression, a
 *                       whole row, a value of a view that reads one): never a column rule's own
 *                       masker, since one that keeps part of a value ({@code partial},
 *                       {@code email}) would show part of a transformed one (reversed, upper-cased…)
 * @param denyPredicates {@code mask_predicates: deny}: statements that filter, join, group or
 *                       order on masked columns are refused
 */
public record MaskRules(List<ColumnRule> columns, List<DetectRule> detection, Masker derived, boolean denyPredicates) {

    /** No masking. */
    public static final MaskRules NONE = new MaskRules(List.of(), List.of(), null, false);

    public MaskRules {
        columns = List.copyOf(columns);
        detection = List.copyOf(detection);
    }

    /** One masked column and its masker. */
    public record ColumnRule(String schema, String table, String column, String maskerName, Masker masker) {
    }

    /** Content detection: what the detectors find in any value is replaced by the masker's result. */
    public record DetectRule(List<PiiDetector> detectors, String maskerName, Masker masker) {
        public DetectRule {
            detectors = List.copyOf(detectors);
        }
    }

    /** Finds maskers by name and detectors by kind for {@link #compile}. */
    public interface Resolver {
        /** The masker instance of this name. */
        java.util.Optional<Masker> masker(String name);

        /** The detector of this kind. */
        java.util.Optional<PiiDetector> detector(String kind);

        /** For configurations without mask rules: every name is unknown. */
        Resolver NONE = new Resolver() {
            @Override
            public java.util.Optional<Masker> masker(String name) {
                return java.util.Optional.empty();
            }

            @Override
            public java.util.Optional<PiiDetector> detector(String kind) {
                return java.util.Optional.empty();
            }
        };
    }

    /**
     * A policy's rules with their maskers and detectors.
     *
     * @throws IllegalArgumentException naming the rule, for a masker or detector nobody provides
     */
    public static MaskRules compile(io.pgwarden.config.GatewayConfig.Policy policy, Resolver resolver) {
        if (policy.mask().isEmpty()) {
            return NONE;
        }
        List<ColumnRule> columns = new java.util.ArrayList<>();
        List<DetectRule> detection = new java.util.ArrayList<>();
        for (int i = 0; i < policy.mask().size(); i++) {
            var rule = policy.mask().get(i);
            String at = "policies[" + policy.name() + "].mask[" + i + "]";
            Masker masker = resolver.masker(rule.masker()).orElse(null);
            if (masker == null) {
                throw new IllegalArgumentException(at + ".masker: no masker is named \"" + rule.masker()
                        + "\" (a built-in type, or a name from masking.maskers)");
            }
            if (rule.column() != null) {
                String[] parts = rule.column().split("\\.", 3);
                columns.add(new ColumnRule(parts[0], parts[1], parts[2], rule.masker(), masker));
            } else {
                List<PiiDetector> detectors = new java.util.ArrayList<>();
                for (String kind : rule.detect()) {
                    PiiDetector d = resolver.detector(kind).orElse(null);
                    if (d == null) {
                        throw new IllegalArgumentException(at + ".detect: no detector finds \"" + kind
                                + "\" (built in: email, phone, card, ssn, iban; more from plugins)");
                    }
                    detectors.add(d);
                }
                detection.add(new DetectRule(detectors, rule.masker(), masker));
            }
        }
        Masker derived = resolver.masker(MaskingPlanner.DERIVED_MASKER).orElse(null);
        if (derived == null) {
            throw new IllegalArgumentException("the built-in masker \"" + MaskingPlanner.DERIVED_MASKER + "\" is missing");
        }
        return new MaskRules(columns, detection, derived, "deny".equals(policy.maskPredicates()));
    }

    public boolean isEmpty() {
        return columns.isEmpty() && detection.isEmpty();
    }

    /** Whether column rules exist: then the statement analysis decides what results may carry. */
    public boolean hasColumnRules() {
        return !columns.isEmpty();
    }

    /** The names of masked columns, without their tables: what lineage compares references with. */
    public Set<String> maskedColumnNames() {
        return columns.stream().map(ColumnRule::column).collect(Collectors.toUnmodifiableSet());
    }
}
