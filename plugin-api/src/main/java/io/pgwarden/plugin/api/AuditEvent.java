package io.pgwarden.plugin.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One audit event as an {@link AuditSink} receives it: a session that started, a statement
 * with its outcome, or a session that ended. Immutable; fields that do not apply to the
 * event's kind are null (strings, numbers) or empty (lists).
 *
 * <p>Construct events with {@link #builder}: the record's canonical constructor grows when
 * later versions add fields (approval, masked columns), the builder's methods do not change.
 * Switches over {@link Kind} or {@link #decision} need a default branch for the same reason.
 *
 * @param eventId       stable, unique identifier: {@code <store id>-<sequence>}; the same on every
 *                      redelivery, so a receiver deduplicates on it (idempotency key)
 * @param sequence      the event's position in the gateway's audit store; for a statement, that of
 *                      its intent (recorded before the statement was forwarded). Events reach a sink
 *                      in the order they were completed, so a long statement arrives after shorter
 *                      ones that started later
 * @param time          when the session started or ended, or when the statement arrived
 * @param kind          what happened
 * @param gatewayId     the gateway that recorded the event ({@code audit.gateway_id})
 * @param sessionId     the gateway's session id, as in its log lines
 * @param identity      the agent's name, established by an authenticator
 * @param issuer        who vouched for the identity (an OIDC issuer, an authenticator type)
 * @param groups        the identity's groups, sorted
 * @param clientAddress the client's IP address
 * @param database      the database the client asked for
 * @param upstream      the configured upstream the session is connected to
 * @param statement     the statement text (with literals replaced by {@code $n} when the gateway's
 *                      {@code audit.redact_literals} is on); statements only
 * @param fingerprint   identifies statements that differ only in literals; may be null
 * @param command       the statement's command class (SELECT, INSERT, DDL, …); may be null
 * @param relations     relations the statement reads or writes, as {@code schema.table}
 * @param decision      what the gateway decided: {@value Decision#ALLOW}, {@value Decision#DENY},
 *                      {@value Decision#HOLD}, approval decisions, or values of later versions; statements only
 * @param reason        why the gateway decided so; for {@link Kind#SESSION_END}, why the session ended
 * @param outcome       what became of a statement; null for session events
 * @param rows          rows returned or affected, when known
 * @param sqlstate      the SQLSTATE of the error the statement ended with, or null
 * @param duration      from the statement's arrival to its completion, when known
 * @param chainHash     hex SHA-256 of the audit store's hash chain at the record that completed this
 *                      event: a copy held outside the gateway lets an auditor prove the store was not
 *                      rewritten afterwards
 */
public record AuditEvent(
        String eventId,
        long sequence,
        Instant time,
        Kind kind,
        String gatewayId,
        String sessionId,
        String identity,
        String issuer,
        List<String> groups,
        String clientAddress,
        String database,
        String upstream,
        String statement,
        String fingerprint,
        String command,
        List<String> relations,
        String decision,
        String reason,
        Outcome outcome,
        Long rows,
        String sqlstate,
        Duration duration,
        String chainHash) {

    public enum Kind {
        SESSION_START,
        STATEMENT,
        SESSION_END
    }

    /** What became of a statement. */
    public enum Outcome {
        /** It completed without error. */
        OK,
        /** It ended with an error ({@link #sqlstate}), or the gateway refused it. */
        ERROR,
        /**
         * Nobody knows: the gateway stopped, or the session ended, after the statement was
         * forwarded and before its outcome was recorded. It may have run.
         */
        UNKNOWN
    }

    /** The decisions this version records; later versions add more, so compare as strings. */
    public static final class Decision {
        public static final String ALLOW = "ALLOW";
        public static final String DENY = "DENY";
        /** The statement was held for approval; its outcome says how the hold ended (OK: approved). */
        public static final String HOLD = "HOLD";
        /** Approval decisions, recorded when they are made ({@code reason} names the request and who decided). */
        public static final String APPROVED = "APPROVED";
        public static final String DENIED = "DENIED";
        public static final String TIMED_OUT = "TIMED_OUT";
        public static final String WITHDRAWN = "WITHDRAWN";

        private Decision() {
        }
    }

    public AuditEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(gatewayId, "gatewayId");
        Objects.requireNonNull(sessionId, "sessionId");
        groups = groups == null ? List.of() : List.copyOf(groups);
        relations = relations == null ? List.of() : List.copyOf(relations);
        if (kind == Kind.STATEMENT && outcome == null) {
            throw new IllegalArgumentException("a statement event needs an outcome (UNKNOWN when none was recorded)");
        }
    }

    /** False when the statement's outcome was never recorded ({@link Outcome#UNKNOWN}). */
    public boolean outcomeKnown() {
        return outcome != Outcome.UNKNOWN;
    }

    /**
     * The event as one line of JSON (no line breaks inside): every field under its
     * snake_case name ({@code event_id}, {@code client_address}, …), null fields left out,
     * {@code time} in ISO-8601 UTC, {@code duration_us} in microseconds, kinds and outcomes
     * as their names. The bundled sinks write exactly this; it is stable across versions
     * except for fields added.
     */
    public String toJson() {
        StringBuilder sb = new StringBuilder(256 + (statement == null ? 0 : statement.length() + 16));
        sb.append('{');
        Json.field(sb, "event_id", eventId);
        Json.number(sb, "sequence", sequence);
        Json.field(sb, "time", time.toString());
        Json.field(sb, "kind", kind.name());
        Json.field(sb, "gateway_id", gatewayId);
        Json.field(sb, "session_id", sessionId);
        Json.field(sb, "identity", identity);
        Json.field(sb, "issuer", issuer);
        Json.list(sb, "groups", groups);
        Json.field(sb, "client_address", clientAddress);
        Json.field(sb, "database", database);
        Json.field(sb, "upstream", upstream);
        Json.field(sb, "statement", statement);
        Json.field(sb, "fingerprint", fingerprint);
        Json.field(sb, "command", command);
        if (kind == Kind.STATEMENT) {
            Json.list(sb, "relations", relations);
        }
        Json.field(sb, "decision", decision);
        Json.field(sb, "reason", reason);
        Json.field(sb, "outcome", outcome == null ? null : outcome.name());
        if (rows != null) {
            Json.number(sb, "rows", rows);
        }
        Json.field(sb, "sqlstate", sqlstate);
        if (duration != null) {
            Json.number(sb, "duration_us", duration.toNanos() / 1_000);
        }
        Json.field(sb, "chain_hash", chainHash);
        sb.append('}');
        return sb.toString();
    }

    public static Builder builder(Kind kind) {
        return new Builder(kind);
    }

    /** A builder holding this event's fields, to make a changed copy (a shortened statement, say). */
    public Builder toBuilder() {
        return new Builder(kind).eventId(eventId).sequence(sequence).time(time).gatewayId(gatewayId).sessionId(sessionId)
                .identity(identity).issuer(issuer).groups(groups).clientAddress(clientAddress).database(database)
                .upstream(upstream).statement(statement).fingerprint(fingerprint).command(command).relations(relations)
                .decision(decision).reason(reason).outcome(outcome).rows(rows).sqlstate(sqlstate).duration(duration)
                .chainHash(chainHash);
    }

    /** Builds an {@link AuditEvent}; unset fields are null (lists empty). */
    public static final class Builder {
        private final Kind kind;
        private String eventId;
        private long sequence;
        private Instant time;
        private String gatewayId;
        private String sessionId;
        private String identity;
        private String issuer;
        private List<String> groups;
        private String clientAddress;
        private String database;
        private String upstream;
        private String statement;
        private String fingerprint;
        private String command;
        private List<String> relations;
        private String decision;
        private String reason;
        private Outcome outcome;
        private Long rows;
        private String sqlstate;
        private Duration duration;
        private String chainHash;

        private Builder(Kind kind) {
            this.kind = Objects.requireNonNull(kind, "kind");
        }

        public Builder eventId(String v) { eventId = v; return this; }
        public Builder sequence(long v) { sequence = v; return this; }
        public Builder time(Instant v) { time = v; return this; }
        public Builder gatewayId(String v) { gatewayId = v; return this; }
        public Builder sessionId(String v) { sessionId = v; return this; }
        public Builder identity(String v) { identity = v; return this; }
        public Builder issuer(String v) { issuer = v; return this; }
        public Builder groups(List<String> v) { groups = v; return this; }
        public Builder clientAddress(String v) { clientAddress = v; return this; }
        public Builder database(String v) { database = v; return this; }
        public Builder upstream(String v) { upstream = v; return this; }
        public Builder statement(String v) { statement = v; return this; }
        public Builder fingerprint(String v) { fingerprint = v; return this; }
        public Builder command(String v) { command = v; return this; }
        public Builder relations(List<String> v) { relations = v; return this; }
        public Builder decision(String v) { decision = v; return this; }
        public Builder reason(String v) { reason = v; return this; }
        public Builder outcome(Outcome v) { outcome = v; return this; }
        public Builder rows(Long v) { rows = v; return this; }
        public Builder sqlstate(String v) { sqlstate = v; return this; }
        public Builder duration(Duration v) { duration = v; return this; }
        public Builder chainHash(String v) { chainHash = v; return this; }

        public AuditEvent build() {
            return new AuditEvent(eventId, sequence, time, kind, gatewayId, sessionId, identity, issuer, groups,
                    clientAddress, database, upstream, statement, fingerprint, command, relations, decision, reason,
                    outcome, rows, sqlstate, duration, chainHash);
        }
    }

    /** The few JSON rules {@link #toJson} needs (RFC 8259 strings; no dependency). */
    private static final class Json {
        private static final char[] HEX = "0123456789abcdef".toCharArray();

        private static void name(StringBuilder sb, String name) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append('"').append(name).append("\":");
        }

        static void field(StringBuilder sb, String name, String value) {
            if (value != null) {
                name(sb, name);
                string(sb, value);
            }
        }

        static void number(StringBuilder sb, String name, long value) {
            name(sb, name);
            sb.append(value);
        }

        static void list(StringBuilder sb, String name, List<String> values) {
            name(sb, name);
            sb.append('[');
            for (int i = 0; i < values.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                string(sb, values.get(i));
            }
            sb.append(']');
        }

        static void string(StringBuilder sb, String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        // Control characters must be escaped (RFC 8259 §7); U+2028/2029 too, so a
                        // line stays one line for JavaScript readers; an unpaired surrogate would
                        // not survive UTF-8 encoding, so it is kept as an escape.
                        boolean unpaired = Character.isHighSurrogate(c)
                                ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                                : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
                        if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || unpaired) {
                            sb.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf])
                                    .append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append('"');
        }
    }
}
