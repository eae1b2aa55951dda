package io.pgwarden.admin;

import io.pgwarden.config.GatewayConfig;
import io.pgwarden.config.GatewayConfig.Policy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration as the admin page shows it (read-only): policies in full, plugin
 * instances by type and name only (their settings may hold addresses and secrets' names).
 */
final class ConfigJson {
    private ConfigJson() {
    }

    static List<Map<String, Object>> policies(GatewayConfig config) {
        return config.policies().stream().map(ConfigJson::policy).toList();
    }

    private static Map<String, Object> policy(Policy p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("match", Map.of("groups", p.match().groups(), "names", p.match().names()));
        m.put("upstream", p.upstream());
        m.put("allow", Map.of("commands", p.allow().commands(), "relations", p.allow().relations(), "functions", p.allow().functions()));
        m.put("deny", Map.of("commands", p.deny().commands(), "relations", p.deny().relations(), "functions", p.deny().functions()));
        m.put("approve", p.approve().stream().map(r -> {
            Map<String, Object> rule = new LinkedHashMap<>();
            var w = r.when();
            Map<String, Object> when = new LinkedHashMap<>();
            if (!w.commands().isEmpty()) {
                when.put("commands", w.commands());
            }
            if (w.withoutWhere()) {
                when.put("without_where", true);
            }
            if (!w.relations().isEmpty()) {
                when.put("relations", w.relations());
            }
            if (!w.functions().isEmpty()) {
                when.put("functions", w.functions());
            }
            if (w.ddl()) {
                when.put("ddl", true);
            }
            if (w.estimatedRowsOver() != null) {
                when.put("estimated_rows_over", w.estimatedRowsOver());
            }
            rule.put("when", when);
            rule.put("approvers", r.approvers());
            rule.put("timeout", io.pgwarden.config.Durations.format(r.timeout()));
            rule.put("mode", r.mode().name().toLowerCase(java.util.Locale.ROOT));
            return rule;
        }).toList());
        return m;
    }

    static List<Map<String, Object>> instances(GatewayConfig config) {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        add(out, "authenticator", config.authenticators());
        add(out, "approver", config.approvers());
        add(out, "audit sink", config.audit().sinks());
        return out;
    }

    private static void add(List<Map<String, Object>> out, String kind, List<Map<String, Object>> entries) {
        for (Map<String, Object> e : entries) {
            out.add(Map.of("kind", kind, "type", String.valueOf(e.get("type")), "name", String.valueOf(e.getOrDefault("name", e.get("type")))));
        }
    }
}
