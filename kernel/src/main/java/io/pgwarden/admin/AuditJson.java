package io.pgwarden.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.audit.AuditEntry;
import io.pgwarden.audit.VerifyResult;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The audit trail as the admin API and {@code pgwarden audit} show it: each entry is the
 * event's own JSON (what sinks receive), plus {@code session} (the session id, by the name
 * the CLI contract uses), {@code pending} and, for an unknown outcome, why.
 */
public final class AuditJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AuditJson() {
    }

    public static ObjectNode entry(AuditEntry entry) {
        try {
            ObjectNode node = (ObjectNode) JSON.readTree(entry.event().toJson());
            node.put("session", entry.event().sessionId());
            // The CLI's contract names these keys on every line, null when they have no value.
            for (String key : new String[] {"statement", "decision", "sqlstate", "rows"}) {
                if (!node.has(key)) {
                    node.putNull(key);
                }
            }
            node.put("pending", entry.pending());
            if (entry.outcomeReason() != null) {
                node.put("outcome_reason", entry.outcomeReason());
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, Object> verify(VerifyResult result) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", result.ok());
        out.put("checked", result.checked());
        out.put("head", result.headSeq());
        if (!result.ok()) {
            out.put("broken_at", result.brokenSeq());
            out.put("problem", result.problem());
        }
        out.put("summary", result.toString());
        return out;
    }
}
