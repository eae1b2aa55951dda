package io.pgwarden.admin;

import io.pgwarden.approval.ApprovalRecord;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** An approval request as the admin API shows it (and the CLI prints it, one object a line). */
final class ApprovalJson {
    private ApprovalJson() {
    }

    static Map<String, Object> of(ApprovalRecord a) {
        var r = a.request();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("status", a.status().name().toLowerCase(java.util.Locale.ROOT));
        m.put("mode", a.mode().name().toLowerCase(java.util.Locale.ROOT));
        m.put("identity", r.identity());
        m.put("groups", r.groups());
        m.put("session", r.sessionId());
        m.put("client", r.clientAddress());
        m.put("database", r.database());
        m.put("statement", r.statement());
        m.put("rule", r.rule());
        m.put("reason", r.reason());
        m.put("approvers", a.approvers());
        m.put("created", text(r.created()));
        m.put("expires", text(r.expires()));
        m.put("decided_by", a.decidedBy());
        m.put("decided_via", a.decidedVia());
        m.put("decided_at", text(a.decidedAt()));
        m.put("decision_reason", a.decisionReason());
        m.put("valid_until", text(a.validUntil()));
        m.put("page", r.page().toString());
        return m;
    }

    private static String text(Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
