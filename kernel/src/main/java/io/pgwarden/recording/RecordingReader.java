package io.pgwarden.recording;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.audit.HashChain;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * Reads recordings from the store: the list, and one session's events with its chain
 * verified and its frames ({@link EventFrames}) decoded. Only reads, so it also serves the
 * store of a stopped gateway.
 *
 * <p>A chunk's hash is {@code SHA-256(previous chunk's hash ‖ canonical(chunk))}, 32 zero
 * bytes before a session's first chunk, where the canonical encoding is the session id (4-byte
 * length and UTF-8), the chunk number (4 bytes), the number of its first event (8), its event
 * count (4) and its compressed payload (4-byte length and the bytes). The session row keeps
 * the last chunk's hash and the chunk count, so chunks cut off the end are found too; and the
 * facts listed for the session must be those of its first (chained) event.
 */
public final class RecordingReader {
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };
    private static final String SESSION_COLUMNS = "session_id, identity_name, issuer, groups_json, client_address, "
            + "database_name, upstream, policy, started_at, ended_at, end_reason, statements, events, dropped";

    private final Store store;

    public RecordingReader(Store store) {
        this.store = store;
    }

    /** Brings the tables to this version's schema (a stopped gateway's store may predate recordings). */
    public RecordingReader migrated() throws StoreException {
        store.migrate(RecordingSchema.COMPONENT, RecordingSchema.MIGRATIONS);
        return this;
    }

    /** The newest {@code limit} sessions (of {@code identity}, when not null), oldest first. */
    public List<RecordedSession> list(String identity, int limit) throws StoreException {
        String sql = "SELECT * FROM (SELECT " + SESSION_COLUMNS + " FROM recording_session"
                + (identity != null ? " WHERE identity_name = ?" : "")
                + " ORDER BY started_at DESC, session_id DESC LIMIT ?) ORDER BY started_at, session_id";
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement(sql)) {
            int i = 1;
            if (identity != null) {
                p.setString(i++, identity);
            }
            p.setInt(i, limit);
            List<RecordedSession> sessions = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    sessions.add(session(rs));
                }
            }
            return sessions;
        } catch (SQLException e) {
            throw new StoreException("store " + store.displayName() + ": cannot list recordings: " + e.getMessage(), e);
        }
    }

    /** The recording of session {@code id}, verified; empty when there is none. */
    public Optional<Replay> read(String id) throws StoreException {
        try (Connection c = store.connect()) {
            RecordedSession session;
            byte[] head;
            int chunks;
            try (PreparedStatement p = c.prepareStatement("SELECT " + SESSION_COLUMNS + ", chunks, head_hash "
                    + "FROM recording_session WHERE session_id = ?")) {
                p.setString(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    session = session(rs);
                    chunks = rs.getInt("chunks");
                    head = rs.getBytes("head_hash");
                }
            }
            return Optional.of(verified(c, session, chunks, head));
        } catch (SQLException e) {
            throw new StoreException("store " + store.displayName() + ": cannot read recording " + id + ": " + e.getMessage(), e);
        }
    }

    private static Replay verified(Connection c, RecordedSession session, int chunks, byte[] head) throws SQLException {
        List<ObjectNode> events = new ArrayList<>();
        EventEncoder encoder = new EventEncoder();
        byte[] hash = HashChain.GENESIS;
        int expected = 0;
        try (PreparedStatement p = c.prepareStatement("SELECT chunk_no, first_event, event_count, payload, hash "
                + "FROM recording_chunk WHERE session_id = ? ORDER BY chunk_no")) {
            p.setString(1, session.id());
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    int no = rs.getInt(1);
                    long first = rs.getLong(2);
                    int count = rs.getInt(3);
                    byte[] payload = rs.getBytes(4);
                    if (no != expected) {
                        return Replay.broken(session, expected, "chunk " + expected + " is missing");
                    }
                    hash = HashChain.link(hash, canonical(session.id(), no, first, count, payload));
                    if (!MessageDigest.isEqual(hash, rs.getBytes(5))) {
                        return Replay.broken(session, no, "chunk " + no + " does not match its hash (changed, or an earlier chunk was)");
                    }
                    List<ObjectNode> decoded = decode(payload, encoder);
                    if (decoded.size() != count || (!decoded.isEmpty() && decoded.getFirst().path("n").asLong(-1) != first)
                            || first != events.size()) {
                        return Replay.broken(session, no, "chunk " + no + " does not hold the events its header names");
                    }
                    events.addAll(decoded);
                    expected++;
                }
            }
        }
        if (expected != chunks || !MessageDigest.isEqual(hash, head)) {
            return Replay.broken(session, expected, "the recording ends at chunk " + expected + " but its session names "
                    + chunks + " chunk(s) and another last hash: chunks were removed");
        }
        String mismatch = factsMismatch(session, events);
        if (mismatch != null) {
            return Replay.broken(session, 0, mismatch);
        }
        return new Replay(session, true, -1, null, List.copyOf(events));
    }

    /** The listed facts of a session must be those its first, chained event holds. */
    private static String factsMismatch(RecordedSession s, List<ObjectNode> events) {
        if (events.isEmpty()) {
            return "the recording holds no events";
        }
        JsonNode start = events.getFirst();
        if (!start.path("type").asText().equals("session_start") || !s.id().equals(start.path("session").asText())
                || !s.identity().equals(start.path("identity").asText())
                || !Objects.equals(s.database(), start.path("database").asText(null))
                || !s.started().equals(Instant.parse(start.path("started").asText()))) {
            return "the session's listed identity, database or start differ from its recording";
        }
        long statements = events.stream().filter(e -> e.path("type").asText().equals("statement")).count();
        if (statements != s.statements()) {
            return "the session's statement count differs from its recording";
        }
        return null;
    }

    static byte[] canonical(String sessionId, int chunkNo, long firstEvent, int eventCount, byte[] payload) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(payload.length + 96);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            byte[] id = sessionId.getBytes(StandardCharsets.UTF_8);
            out.writeInt(id.length);
            out.write(id);
            out.writeInt(chunkNo);
            out.writeLong(firstEvent);
            out.writeInt(eventCount);
            out.writeInt(payload.length);
            out.write(payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A chunk's events as JSON; empty when its payload does not decode (reported as a chunk that does not hold its events). */
    private static List<ObjectNode> decode(byte[] payload, EventEncoder encoder) {
        byte[] frames;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(payload))) {
            frames = in.readAllBytes();
        } catch (IOException e) {
            return List.of();
        }
        List<CapturedEvent> captured;
        try {
            captured = EventFrames.decode(frames);
        } catch (IllegalArgumentException e) {
            return List.of();
        }
        List<ObjectNode> events = new ArrayList<>(captured.size());
        captured.forEach(e -> events.add(encoder.encode(e)));
        return events;
    }

    private static RecordedSession session(ResultSet rs) throws SQLException {
        List<String> groups;
        try {
            groups = EventEncoder.JSON.readValue(rs.getString("groups_json"), STRINGS);
        } catch (IOException e) {
            groups = List.of();
        }
        OffsetDateTime ended = rs.getObject("ended_at", OffsetDateTime.class);
        return new RecordedSession(rs.getString("session_id"), rs.getString("identity_name"), rs.getString("issuer"), groups,
                rs.getString("client_address"), rs.getString("database_name"), rs.getString("upstream"), rs.getString("policy"),
                rs.getObject("started_at", OffsetDateTime.class).toInstant(), ended == null ? null : ended.toInstant(),
                rs.getString("end_reason"), rs.getLong("statements"), rs.getLong("events"), rs.getLong("dropped"));
    }
}
