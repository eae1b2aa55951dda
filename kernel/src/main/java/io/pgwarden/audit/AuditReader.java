package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditEvent.Outcome;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads the audit store: {@link #list} for people, {@link #verify} for the hash chain, and
 * the outbox's reads and positions. It only reads (and moves sink positions), so it may be
 * used on the store of a stopped gateway; {@link AuditLog#reader()} gives the running one's.
 */
public final class AuditReader {
    private static final int VERIFY_PAGE = 5_000;
    private static final String COMPLETION_COLUMNS =
            "c.seq AS c_seq, c.outcome AS c_outcome, c.rows_affected AS c_rows, c.sqlstate AS c_sqlstate, "
                    + "c.duration_us AS c_duration_us, c.reason AS c_reason, c.hash AS c_hash";

    private final Store store;
    /** Whether {@link #list} and {@link #verify} first store what the journal holds beyond the store. */
    private final boolean applyJournal;

    /**
     * A reader of a stopped gateway's store. Before {@link #list} and {@link #verify} it stores
     * the records its audit journal holds beyond the store (a gateway killed with SIGKILL
     * leaves up to a flush interval of them there): they were durable, and the next start
     * would store them the same way.
     */
    public AuditReader(Store store) {
        this(store, true);
    }

    /** {@code applyJournal} false: the running gateway's reader, whose own flusher owns the journal. */
    AuditReader(Store store, boolean applyJournal) {
        this.store = store;
        this.applyJournal = applyJournal;
    }

    private void catchUp(String what) throws StoreException {
        if (!applyJournal) {
            return;
        }
        java.util.Optional<java.nio.file.Path> base = AuditLog.journalBase(store);
        if (base.isEmpty()) {
            return;
        }
        try {
            if (AuditJournal.segments(base.get()).isEmpty()) {
                return;
            }
            try (Connection c = store.connect()) {
                c.setAutoCommit(false);
                AuditLog.applyJournal(store, c, base.get(), true);
            }
        } catch (SQLException | java.io.IOException e) {
            throw new StoreException(what + ": cannot store the records of the audit journal: " + e.getMessage(), e);
        }
    }

    /**
     * Session events and statements (each joined with its outcome), oldest first, at most
     * {@code limit} of them: the newest ones that match.
     *
     * @param identity only this identity's events; null for everyone's
     * @param since    only events from this time on; null for all
     */
    public List<AuditEntry> list(String identity, Instant since, int limit) throws StoreException {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        catchUp("audit list");
        String sql = "SELECT " + ChainRecord.selectList("b", "b_") + ", b.hash AS b_hash, " + COMPLETION_COLUMNS
                + " FROM audit_record b LEFT JOIN audit_record c ON c.intent_seq = b.seq AND c.kind = 'OUTCOME'"
                + " WHERE b.kind <> 'OUTCOME'"
                + (identity != null ? " AND b.identity_name = ?" : "")
                + (since != null ? " AND b.recorded_at >= ?" : "")
                // With the identity first, H2 walks the (identity_name, seq) index backwards
                // instead of sorting every record of that identity.
                + (identity != null ? " ORDER BY b.identity_name DESC, b.seq DESC" : " ORDER BY b.seq DESC") + " LIMIT ?";
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement(sql)) {
            int i = 1;
            if (identity != null) {
                p.setString(i++, identity);
            }
            if (since != null) {
                p.setObject(i++, OffsetDateTime.ofInstant(since, ZoneOffset.UTC));
            }
            p.setInt(i, limit);
            List<AuditEntry> entries = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    ChainRecord base = ChainRecord.read(rs, "b_");
                    Completion done = Completion.read(rs);
                    boolean pending = base.kind() == ChainRecord.Kind.INTENT && done == null;
                    AuditEvent event = event(base, done, rs.getBytes("b_hash"));
                    entries.add(new AuditEntry(event, pending,
                            done != null && Outcome.UNKNOWN.name().equals(done.outcome()) ? done.reason() : null));
                }
            }
            return entries.reversed();
        } catch (SQLException e) {
            throw new StoreException("audit list: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new StoreException("audit list: a record cannot be read (" + e + "); run `pgwarden audit verify`", e);
        }
    }

    /**
     * Recomputes the hash chain from the first record and compares it with the stored
     * hashes and the chain head. Reads one consistent snapshot, so it may run while the
     * gateway writes.
     */
    public VerifyResult verify() throws StoreException {
        catchUp("audit verify");
        try (Connection c = store.connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SNAPSHOT");
            }
            try {
                return verify(c);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new StoreException("audit verify: " + e.getMessage(), e);
        }
    }

    private static VerifyResult verify(Connection c) throws SQLException {
        Long headSeq = null;
        byte[] headHash = null;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT last_seq, hash FROM audit_head WHERE id = 1")) {
            if (rs.next()) {
                headSeq = rs.getLong(1);
                headHash = rs.getBytes(2);
            }
        }
        long head = headSeq == null ? 0 : headSeq;
        byte[] previous = ChainRecord.GENESIS;
        long expected = 1;
        long checked = 0;
        String sql = "SELECT " + AuditSchema.RECORD_COLUMNS + ", hash FROM audit_record WHERE seq >= ? ORDER BY seq LIMIT "
                + VERIFY_PAGE;
        try (PreparedStatement p = c.prepareStatement(sql)) {
            while (true) {
                p.setLong(1, expected);
                int rows = 0;
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        long seq = rs.getLong("seq");
                        if (seq != expected) {
                            return VerifyResult.broken(checked, expected, expected == seq - 1
                                    ? "record " + expected + " is missing (the next record is " + seq + ")"
                                    : "records " + expected + " to " + (seq - 1) + " are missing (the next record is " + seq + ")",
                                    head);
                        }
                        ChainRecord record;
                        try {
                            record = ChainRecord.read(rs, "");
                        } catch (RuntimeException e) {
                            return VerifyResult.broken(checked, seq, "the record cannot be read (" + e.getMessage()
                                    + "): it was changed outside the gateway", head);
                        }
                        byte[] stored = rs.getBytes("hash");
                        if (stored == null || !MessageDigest.isEqual(stored, record.hash(previous))) {
                            return VerifyResult.broken(checked, seq, "its hash does not match its fields and the record "
                                    + "before it: a field of it was changed, or records were reordered or replaced", head);
                        }
                        previous = stored;
                        expected++;
                        checked++;
                    }
                }
                if (rows < VERIFY_PAGE) {
                    break;
                }
            }
        }
        long last = expected - 1;
        if (headSeq == null) {
            return last == 0 ? VerifyResult.ok(0, 0)
                    : VerifyResult.broken(checked, last, "the chain head (table audit_head) is missing", last);
        }
        if (head > last) {
            return VerifyResult.broken(checked, last + 1, (head == last + 1 ? "record " + head + " is missing"
                    : "records " + (last + 1) + " to " + head + " are missing")
                    + " from the end of the chain (the chain head says the last record is " + head + ")", head);
        }
        if (head < last) {
            return VerifyResult.broken(head, head + 1, "records after " + head + " are not covered by the chain head: "
                    + "they were added outside the gateway, or the head was changed", head);
        }
        if (!MessageDigest.isEqual(headHash, previous)) {
            return VerifyResult.broken(checked - 1, last, "the chain head's hash does not match record " + last
                    + ": the head or the record was changed", head);
        }
        return VerifyResult.ok(checked, head);
    }

    /** An event ready for the sinks, and the position to store once it is delivered. */
    record Completed(long completionSeq, AuditEvent event) {
    }

    /**
     * The complete events whose completing record comes after {@code after}, in that order:
     * session starts and ends as they were written, statements when their outcome was.
     */
    List<Completed> completedAfter(long after, int limit) throws SQLException {
        String sql = "SELECT " + ChainRecord.selectList("b", "b_") + ", b.hash AS b_hash, " + COMPLETION_COLUMNS
                + ", c.kind AS c_kind FROM audit_record c"
                + " LEFT JOIN audit_record b ON b.seq = CASE WHEN c.kind = 'OUTCOME' THEN c.intent_seq ELSE c.seq END"
                + " WHERE c.seq > ? AND c.kind <> 'INTENT' ORDER BY c.seq LIMIT ?";
        List<Completed> batch = new ArrayList<>();
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement(sql)) {
            p.setLong(1, after);
            p.setInt(2, limit);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong("c_seq");
                    if (rs.getString("b_kind") == null) {
                        // An outcome whose intent is gone: only a changed store does that, and
                        // verify names it; the rest of the trail still goes out.
                        org.slf4j.LoggerFactory.getLogger(AuditReader.class).error(
                                "audit record {} is the outcome of a record that does not exist; "
                                        + "not delivered (run `pgwarden audit verify`)", seq);
                        continue;
                    }
                    try {
                        ChainRecord base = ChainRecord.read(rs, "b_");
                        Completion done = "OUTCOME".equals(rs.getString("c_kind")) ? Completion.read(rs) : null;
                        batch.add(new Completed(seq, event(base, done, rs.getBytes("b_hash"))));
                    } catch (RuntimeException e) {
                        org.slf4j.LoggerFactory.getLogger(AuditReader.class).error(
                                "audit record {} cannot be read ({}); not delivered (run `pgwarden audit verify`)", seq, e.toString());
                    }
                }
            }
        }
        return batch;
    }

    /** The last record delivered to {@code sink}, 0 for a sink that never received anything. */
    long cursor(String sink) throws SQLException {
        try (Connection c = store.connect();
             PreparedStatement p = c.prepareStatement("SELECT delivered_through FROM audit_sink_cursor WHERE sink = ?")) {
            p.setString(1, sink);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    void advance(String sink, long deliveredThrough, Instant now) throws SQLException {
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement(
                "MERGE INTO audit_sink_cursor (sink, delivered_through, updated_at) KEY (sink) VALUES (?, ?, ?)")) {
            p.setString(1, sink);
            p.setLong(2, deliveredThrough);
            p.setObject(3, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
            p.executeUpdate();
        }
    }

    /** The part of an OUTCOME record that completes a statement event. */
    private record Completion(long seq, String outcome, Long rows, String sqlstate, Long durationMicros, String reason,
                              byte[] hash) {
        static Completion read(ResultSet rs) throws SQLException {
            long seq = rs.getLong("c_seq");
            if (rs.wasNull()) {
                return null;
            }
            long rows = rs.getLong("c_rows");
            Long r = rs.wasNull() ? null : rows;
            long us = rs.getLong("c_duration_us");
            Long d = rs.wasNull() ? null : us;
            return new Completion(seq, rs.getString("c_outcome"), r, rs.getString("c_sqlstate"), d,
                    rs.getString("c_reason"), rs.getBytes("c_hash"));
        }
    }

    private AuditEvent event(ChainRecord base, Completion done, byte[] baseHash) {
        AuditEvent.Kind kind = switch (base.kind()) {
            case SESSION_START -> AuditEvent.Kind.SESSION_START;
            case SESSION_END -> AuditEvent.Kind.SESSION_END;
            case INTENT, OUTCOME -> AuditEvent.Kind.STATEMENT;
        };
        AuditEvent.Builder b = AuditEvent.builder(kind)
                .eventId(store.id() + "-" + base.seq())
                .sequence(base.seq())
                .time(base.at())
                .gatewayId(base.gatewayId())
                .sessionId(base.sessionId())
                .identity(base.identity())
                .issuer(base.issuer())
                .groups(base.groups())
                .clientAddress(base.clientAddress())
                .database(base.database())
                .upstream(base.upstream())
                .reason(base.reason())
                .chainHash(HexFormat.of().formatHex(done != null ? done.hash() : baseHash));
        if (kind == AuditEvent.Kind.STATEMENT) {
            b.statement(base.statement())
                    .fingerprint(base.fingerprint())
                    .command(base.command())
                    .relations(base.relations())
                    .decision(base.decision())
                    .outcome(done == null ? Outcome.UNKNOWN : outcome(done.outcome()));
            if (done != null) {
                b.rows(done.rows())
                        .sqlstate(done.sqlstate())
                        .duration(done.durationMicros() == null ? null : Duration.ofNanos(done.durationMicros() * 1_000));
            }
        }
        return b.build();
    }

    private static Outcome outcome(String stored) {
        try {
            return Outcome.valueOf(stored);
        } catch (RuntimeException e) {
            return Outcome.UNKNOWN; // a changed row; verify reports it
        }
    }
}
