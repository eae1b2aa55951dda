package io.pgwarden.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/**
 * One row of {@code audit_record}: its fields, their canonical encoding and the chain hash.
 *
 * <p>{@code hash = SHA-256(previous record's hash ‖ canonical(this record))}, with 32 zero
 * bytes before the first record. The canonical encoding (docs/audit.md) is unambiguous: the
 * fields in {@link AuditSchema#RECORD_COLUMNS} order, each a presence byte (0 = null, 1 =
 * value) and the value: a string as a 4-byte big-endian length and UTF-8 bytes, a number as
 * 8 bytes big-endian, a time as microseconds since the epoch, a list as a 4-byte count and
 * its strings. So no change to a field, no reordering and no deletion of a record goes
 * unnoticed by {@link AuditReader#verify}.
 */
record ChainRecord(
        long seq,
        Kind kind,
        Instant at,
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
        Long intentSeq,
        String outcome,
        Long rows,
        String sqlstate,
        Long durationMicros) {

    enum Kind {
        SESSION_START,
        INTENT,
        OUTCOME,
        SESSION_END
    }

    static final byte[] GENESIS = HashChain.GENESIS;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };

    ChainRecord {
        at = at.truncatedTo(ChronoUnit.MICROS);
        // Null only when read from a row whose list column was set to NULL by hand: kept
        // apart from an empty list, so that the change shows as a hash mismatch.
        groups = groups == null ? null : List.copyOf(groups);
        relations = relations == null ? null : List.copyOf(relations);
    }

    ChainRecord withSeq(long newSeq) {
        return new ChainRecord(newSeq, kind, at, gatewayId, sessionId, identity, issuer, groups, clientAddress, database,
                upstream, statement, fingerprint, command, relations, decision, reason, intentSeq, outcome, rows, sqlstate,
                durationMicros);
    }

    byte[] hash(byte[] previous) {
        return hash(previous, canonical());
    }

    /** The chain hash of a record whose canonical encoding is {@code canonical}. */
    static byte[] hash(byte[] previous, byte[] canonical) {
        return HashChain.link(previous, canonical);
    }

    byte[] canonical() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 + (statement == null ? 0 : statement.length()));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            number(out, seq);
            string(out, kind.name());
            number(out, micros(at));
            string(out, gatewayId);
            string(out, sessionId);
            string(out, identity);
            string(out, issuer);
            list(out, groups);
            string(out, clientAddress);
            string(out, database);
            string(out, upstream);
            string(out, statement);
            string(out, fingerprint);
            string(out, command);
            list(out, relations);
            string(out, decision);
            string(out, reason);
            number(out, intentSeq);
            string(out, outcome);
            number(out, rows);
            string(out, sqlstate);
            number(out, durationMicros);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /**
     * The inverse of {@link #canonical()}, for the journal: reads one record from the
     * buffer's position. Throws a {@link RuntimeException} on bytes that are not a record.
     */
    static ChainRecord decode(ByteBuffer in) {
        return new ChainRecord(
                Objects.requireNonNull(number(in), "seq"),
                Kind.valueOf(Objects.requireNonNull(string(in), "kind")),
                instant(Objects.requireNonNull(number(in), "recorded_at")),
                string(in), string(in), string(in), string(in), list(in), string(in), string(in), string(in),
                string(in), string(in), string(in), list(in), string(in), string(in), number(in), string(in),
                number(in), string(in), number(in));
    }

    private static boolean present(ByteBuffer in) {
        byte b = in.get();
        if (b != 0 && b != 1) {
            throw new IllegalArgumentException("bad presence byte " + b);
        }
        return b == 1;
    }

    private static String string(ByteBuffer in) {
        if (!present(in)) {
            return null;
        }
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("bad string length " + length);
        }
        String s = new String(in.array(), in.arrayOffset() + in.position(), length, StandardCharsets.UTF_8);
        in.position(in.position() + length);
        return s;
    }

    private static Long number(ByteBuffer in) {
        return present(in) ? in.getLong() : null;
    }

    private static List<String> list(ByteBuffer in) {
        if (!present(in)) {
            return null;
        }
        int count = in.getInt();
        if (count < 0 || count > in.remaining()) {
            throw new IllegalArgumentException("bad list length " + count);
        }
        List<String> values = new java.util.ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            values.add(string(in));
        }
        return values;
    }

    private static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeByte(0);
            return;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeByte(1);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static void number(DataOutputStream out, Long n) throws IOException {
        if (n == null) {
            out.writeByte(0);
            return;
        }
        out.writeByte(1);
        out.writeLong(n);
    }

    private static void list(DataOutputStream out, List<String> values) throws IOException {
        if (values == null) {
            out.writeByte(0);
            return;
        }
        out.writeByte(1);
        out.writeInt(values.size());
        for (String v : values) {
            string(out, v);
        }
    }

    static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }

    static MessageDigest sha256() {
        return HashChain.sha256();
    }

    /** Binds the fields and {@code hash} to an INSERT of {@link AuditSchema#RECORD_COLUMNS} + hash. */
    void bind(PreparedStatement p, byte[] hash) throws SQLException {
        int i = 1;
        p.setLong(i++, seq);
        p.setString(i++, kind.name());
        p.setObject(i++, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
        p.setString(i++, gatewayId);
        p.setString(i++, sessionId);
        p.setString(i++, identity);
        p.setString(i++, issuer);
        p.setString(i++, json(groups));
        p.setString(i++, clientAddress);
        p.setString(i++, database);
        p.setString(i++, upstream);
        p.setString(i++, statement);
        p.setString(i++, fingerprint);
        p.setString(i++, command);
        p.setString(i++, json(relations));
        p.setString(i++, decision);
        p.setString(i++, reason);
        setLong(p, i++, intentSeq);
        p.setString(i++, outcome);
        setLong(p, i++, rows);
        p.setString(i++, sqlstate);
        setLong(p, i++, durationMicros);
        p.setBytes(i, hash);
    }

    /** Reads the fields from columns named as in {@link AuditSchema#RECORD_COLUMNS}, each with {@code prefix}. */
    static ChainRecord read(ResultSet rs, String prefix) throws SQLException {
        return new ChainRecord(
                rs.getLong(prefix + "seq"),
                Kind.valueOf(rs.getString(prefix + "kind")),
                rs.getObject(prefix + "recorded_at", OffsetDateTime.class).toInstant(),
                rs.getString(prefix + "gateway_id"),
                rs.getString(prefix + "session_id"),
                rs.getString(prefix + "identity_name"),
                rs.getString(prefix + "issuer"),
                strings(rs.getString(prefix + "groups_json")),
                rs.getString(prefix + "client_address"),
                rs.getString(prefix + "database_name"),
                rs.getString(prefix + "upstream"),
                rs.getString(prefix + "statement"),
                rs.getString(prefix + "fingerprint"),
                rs.getString(prefix + "command"),
                strings(rs.getString(prefix + "relations_json")),
                rs.getString(prefix + "decision"),
                rs.getString(prefix + "reason"),
                getLong(rs, prefix + "intent_seq"),
                rs.getString(prefix + "outcome"),
                getLong(rs, prefix + "rows_affected"),
                rs.getString(prefix + "sqlstate"),
                getLong(rs, prefix + "duration_us"));
    }

    /** The columns of {@link AuditSchema#RECORD_COLUMNS} for a SELECT, from {@code table} as {@code prefix}column. */
    static String selectList(String table, String prefix) {
        StringBuilder sb = new StringBuilder();
        for (String column : AuditSchema.RECORD_COLUMNS.split(",\\s*")) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(table).append('.').append(column).append(" AS ").append(prefix).append(column);
        }
        return sb.toString();
    }

    private static String json(List<String> values) {
        if (values == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(values);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a list of strings always serialises
        }
    }

    /**
     * A list column as stored. Text that is not a JSON list of strings (a tampered row) reads
     * as a list holding that text, so that {@link AuditReader#verify} reports a hash mismatch
     * at the row instead of failing to read it.
     */
    private static List<String> strings(String json) {
        if (json == null) {
            return null;
        }
        try {
            List<String> values = JSON.readValue(json, STRINGS);
            return values == null || values.contains(null) ? List.of(json) : values;
        } catch (JsonProcessingException e) {
            return List.of(json);
        }
    }

    private static void setLong(PreparedStatement p, int index, Long value) throws SQLException {
        if (value == null) {
            p.setNull(index, Types.BIGINT);
        } else {
            p.setLong(index, value);
        }
    }

    private static Long getLong(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }
}
