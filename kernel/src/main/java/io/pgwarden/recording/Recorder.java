package io.pgwarden.recording;

import io.pgwarden.audit.AuditLog;
import io.pgwarden.audit.HashChain;
import io.pgwarden.audit.StatementIntent;
import io.pgwarden.audit.StatementOutcome;
import io.pgwarden.config.GatewayConfig;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Session recordings (DESIGN §9, docs/recording.md): sessions hand their captured events to
 * this recorder as batches of frames ({@link SessionRecorder}, {@link EventFrames}); its
 * writer thread packs each session's frames into a gzip'd chunk, chains the chunks by SHA-256
 * and stores them, every {@value #FLUSH_INTERVAL_MS} ms in one transaction. Frames are decoded
 * only when a recording is read ({@link RecordingReader}). Nothing here runs on an event loop
 * but {@link #accept}, which only queues.
 *
 * <p><b>Bounded.</b> Events waiting for the writer, or for the store, count against
 * {@code recording.buffer} bytes; they are released once their chunk is committed. When the
 * buffer is full, {@code recording.on_overflow} decides: {@code drop} loses the batch (the
 * recording gets a {@code gap} event, and the audit trail a {@code RECORDING_DROPPED} record
 * for the session), {@code block} makes the session's event loop wait for room.
 *
 * <p><b>Retention.</b> Recordings of sessions that ended more than {@code recording.retention}
 * ago are deleted at start and every hour. After a crash, sessions left open get their
 * {@code session_end} ("gateway stopped") at the next start, chained like any other event.
 */
public final class Recorder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Recorder.class);
    static final long FLUSH_INTERVAL_MS = 500;
    /** Uncompressed bytes of one chunk before it is stored without waiting for the interval. */
    private static final int CHUNK_BYTES = 1 << 20;
    static final String GATEWAY_STOPPED = "gateway stopped";
    /** The audit decision recorded when a session's events were dropped. */
    public static final String DROPPED_DECISION = "RECORDING_DROPPED";

    /**
     * @param keepParameters record extended-protocol parameters (off under {@code audit.redact_literals},
     *                       whose promise is that no value an agent sent is stored)
     */
    public record Settings(boolean enabled, int maxRowsPerResult, Duration retention, long bufferBytes, boolean blockWhenFull,
                           boolean keepParameters, String gatewayId) {
        public static Settings of(GatewayConfig config, String gatewayId) {
            GatewayConfig.Recording r = config.recording();
            return new Settings(r.enabled(), r.maxRowsPerResult(), r.retention(), r.buffer(),
                    r.onOverflow().equals(GatewayConfig.Recording.BLOCK), !config.audit().redactLiterals(), gatewayId);
        }
    }

    private final Store store;
    private final Settings settings;
    private final AuditLog audit;
    private final Clock clock;
    private final RecordingReader reader;
    private final Semaphore buffer;
    private final int bufferPermits;
    /**
     * Batches, barriers and the close marker for the writer. Adding never wakes the writer
     * (a wake-up per transaction, a futex call on each side, was most of recording's cost on
     * the data path): it sleeps for the flush interval and takes everything then, unless the
     * buffer fills up or someone waits ({@link #awaitStored}, {@link #close}).
     */
    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    private final Thread writer;
    private final ScheduledExecutorService retention;
    private volatile boolean accepting = true;

    /** Writer thread only: sessions whose recording is not complete in the store. */
    private final Map<String, Writing> writing = new HashMap<>();
    private long lastFlushNanos = System.nanoTime();
    private long uncompressed;

    /**
     * A session's events as the event loop handed them over.
     *
     * @param events     frames in {@code frames}
     * @param statements statement events among them
     * @param dropped    the events a gap frame among them tells of (0: none)
     * @param endReason  the session ended (its end frame is the last), or null
     * @param endMicros  when it ended, since it started
     */
    record Batch(SessionFacts session, EventFrames frames, int events, int statements, long dropped, String endReason,
                 long endMicros) {
        int weight() {
            return 64 + frames.size();
        }
    }

    /** A batch and the buffer it holds. */
    private record Queued(Batch batch, int permits) {
    }

    private record Barrier(CompletableFuture<Void> done) {
    }

    /** What the writer keeps per session between chunks. */
    private static final class Writing {
        final SessionFacts facts;
        /** Frames not yet stored. */
        final ByteArrayOutputStream lines = new ByteArrayOutputStream(8192);
        int pendingEvents;
        long firstPending;
        int pendingWeight;
        long events;
        long statements;
        int nextChunk;
        byte[] head = HashChain.GENESIS;
        Instant endedAt;
        String endReason;
        long dropped;

        Writing(SessionFacts facts) {
            this.facts = facts;
        }
    }

    private Recorder(Store store, Settings settings, AuditLog audit, Clock clock) {
        this.store = store;
        this.settings = settings;
        this.audit = audit;
        this.clock = clock;
        this.reader = new RecordingReader(store);
        this.bufferPermits = (int) Math.min(Integer.MAX_VALUE, settings.bufferBytes());
        this.buffer = new Semaphore(bufferPermits);
        this.writer = Thread.ofPlatform().name("pgwarden-recording-writer").daemon().unstarted(this::run);
        this.retention = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("pgwarden-recording-retention").daemon().factory());
    }

    /**
     * Brings the tables up to date, ends what a killed gateway left open, deletes expired
     * recordings and starts the writer.
     *
     * @param audit where dropped events are reported; may be null (tests)
     */
    public static Recorder open(Store store, Settings settings, AuditLog audit, Clock clock) throws StoreException {
        store.migrate(RecordingSchema.COMPONENT, RecordingSchema.MIGRATIONS);
        Recorder recorder = new Recorder(store, settings, audit, clock);
        try {
            recorder.endLeftOpen();
        } catch (SQLException e) {
            throw new StoreException("store " + store.displayName() + ": cannot end the recordings a stopped gateway left open: "
                    + e.getMessage(), e);
        }
        recorder.writer.start();
        recorder.retention.scheduleWithFixedDelay(recorder::deleteExpired, 0, 1, TimeUnit.HOURS);
        return recorder;
    }

    public boolean enabled() {
        return settings.enabled();
    }

    /** A recorder for a session that just became ready; null when recording is off. Its first event names the session. */
    public SessionRecorder start(SessionFacts facts) {
        return settings.enabled() ? new SessionRecorder(this, facts, settings.maxRowsPerResult(), settings.keepParameters()) : null;
    }

    // ---------------------------------------------------------------- event loops

    /** Queues a session's batch if the buffer has room (or, with {@code block}, once it has). */
    boolean accept(Batch batch) {
        int permits = Math.min(batch.weight(), bufferPermits);
        if (!accepting) {
            return false;
        }
        if (!buffer.tryAcquire(permits)) {
            if (!settings.blockWhenFull() || !acquireBlocking(permits)) {
                return false;
            }
        }
        queue.add(new Queued(batch, permits));
        if (buffer.availablePermits() < bufferPermits / 2) {
            LockSupport.unpark(writer); // half the buffer waits: store it now rather than at the interval
        }
        return true;
    }

    /** recording.on_overflow: block: the session (and its event loop) waits until the writer makes room. */
    private boolean acquireBlocking(int permits) {
        try {
            while (accepting && writer.isAlive()) {
                if (buffer.tryAcquire(permits, 1, TimeUnit.SECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** A session's end (after dropped events): queued past the buffer's bound, as it is tiny and must not be lost. */
    void acceptAnyway(Batch batch) {
        if (accepting) {
            queue.add(new Queued(batch, 0));
        }
    }

    void reportDrop(String sessionId) {
        LOG.warn("session {}: recording events dropped: the recording writer is behind (recording.buffer full); "
                + "the recording will show the gap", sessionId);
        if (audit == null) {
            return;
        }
        StatementIntent intent = new StatementIntent("<session recording>", null, null, List.of(), DROPPED_DECISION,
                "events of this session were not recorded: the recording writer fell behind (recording.buffer full, "
                        + "recording.on_overflow: drop)");
        audit.recordIntent(sessionId, intent)
                .thenCompose(seq -> audit.recordOutcome(seq, StatementOutcome.ok(null, Duration.ZERO)))
                .exceptionally(e -> {
                    LOG.warn("session {}: the dropped recording events could not be recorded in the audit trail: {}", sessionId,
                            e.toString());
                    return null;
                });
    }

    // ---------------------------------------------------------------- reading

    /** The newest {@code limit} recorded sessions (of {@code identity} when not null), oldest first, everything queued so far stored. */
    public List<RecordedSession> list(String identity, int limit) throws StoreException {
        awaitStored();
        return reader.list(identity, limit);
    }

    /** A session's recording, verified, with everything queued so far stored. */
    public Optional<Replay> read(String sessionId) throws StoreException {
        awaitStored();
        return reader.read(sessionId);
    }

    private void awaitStored() throws StoreException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!accepting || !writer.isAlive()) {
            return;
        }
        queue.add(new Barrier(done));
        LockSupport.unpark(writer);
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for the recording writer", e);
        } catch (Exception e) {
            throw new StoreException("the recording writer did not store its queue in time: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- writer thread

    private void run() {
        List<CompletableFuture<Void>> barriers = new ArrayList<>();
        while (true) {
            // Until the interval is over, or someone unparks it: a barrier, the close, a filling buffer.
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(FLUSH_INTERVAL_MS));
            Object item = queue.poll();
            boolean stop = false;
            while (item != null) {
                switch (item) {
                    case Queued q -> take(q.batch(), q.permits());
                    case Barrier b -> barriers.add(b.done());
                    default -> stop = true; // the close marker
                }
                item = queue.poll();
            }
            if (stop || !barriers.isEmpty() || uncompressed >= CHUNK_BYTES || buffer.availablePermits() < bufferPermits / 2
                    || System.nanoTime() - lastFlushNanos >= TimeUnit.MILLISECONDS.toNanos(FLUSH_INTERVAL_MS)) {
                boolean stored = flush();
                barriers.forEach(b -> b.complete(null));
                barriers.clear();
                if (stop) {
                    if (!stored) {
                        LOG.error("recording: {} session(s) could not be stored at shutdown", writing.size());
                    }
                    return;
                }
            }
        }
    }

    private void take(Batch batch, int permits) {
        SessionFacts facts = batch.session();
        Writing w = writing.computeIfAbsent(facts.id(), id -> new Writing(facts));
        if (w.events == 0) {
            // The first event names the session, so that its facts are chained with everything else.
            EventFrames start = new EventFrames(256);
            start.add(SessionRecorder.START, 0, null, factsJson(facts), null, 0, 0);
            append(w, start, 1);
        }
        append(w, batch.frames(), batch.events());
        w.statements += batch.statements();
        w.dropped += batch.dropped();
        if (batch.endReason() != null) {
            w.endedAt = facts.started().plus(Duration.ofNanos(batch.endMicros() * 1_000));
            w.endReason = batch.endReason();
        }
        w.pendingWeight += permits;
    }

    private void append(Writing w, EventFrames frames, int events) {
        if (w.pendingEvents == 0) {
            w.firstPending = w.events;
        }
        w.lines.write(frames.array(), 0, frames.size());
        uncompressed += frames.size();
        w.pendingEvents += events;
        w.events += events;
    }

    private static String factsJson(SessionFacts f) {
        var o = EventEncoder.JSON.createObjectNode();
        o.put("session", f.id());
        o.put("identity", f.identity());
        o.put("issuer", f.issuer());
        f.groups().forEach(o.putArray("groups")::add);
        o.put("client", f.clientAddress());
        o.put("database", f.database());
        o.put("upstream", f.upstream());
        o.put("policy", f.policy());
        o.put("started", f.started().toString());
        return o.toString();
    }

    /** Stores every session's pending events as one chunk each, in one transaction. @return whether it worked */
    private boolean flush() {
        lastFlushNanos = System.nanoTime();
        List<Writing> ready = writing.values().stream().filter(w -> w.pendingEvents > 0).toList();
        if (ready.isEmpty()) {
            return true;
        }
        Map<Writing, byte[]> heads = new HashMap<>();
        try (Connection c = store.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement chunk = c.prepareStatement("INSERT INTO recording_chunk (session_id, chunk_no, first_event, "
                    + "event_count, payload, hash) VALUES (?, ?, ?, ?, ?, ?)");
                 PreparedStatement session = c.prepareStatement("MERGE INTO recording_session (session_id, gateway_id, "
                         + "identity_name, issuer, groups_json, client_address, database_name, upstream, policy, started_at, "
                         + "ended_at, end_reason, statements, events, dropped, chunks, head_hash) KEY (session_id) "
                         + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (Writing w : ready) {
                    byte[] payload = gzip(w.lines.toByteArray());
                    String id = w.facts.id();
                    byte[] hash = HashChain.link(w.head,
                            RecordingReader.canonical(id, w.nextChunk, w.firstPending, w.pendingEvents, payload));
                    heads.put(w, hash);
                    chunk.setString(1, id);
                    chunk.setInt(2, w.nextChunk);
                    chunk.setLong(3, w.firstPending);
                    chunk.setInt(4, w.pendingEvents);
                    chunk.setBytes(5, payload);
                    chunk.setBytes(6, hash);
                    chunk.addBatch();
                    bindSession(session, w, hash);
                    session.addBatch();
                }
                chunk.executeBatch();
                session.executeBatch();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            LOG.error("recording store write failed ({}): {} session(s) wait in memory (recording.buffer) and are retried",
                    e.toString(), ready.size());
            return false;
        }
        int released = 0;
        for (Writing w : ready) {
            w.head = heads.get(w);
            w.nextChunk++;
            w.lines.reset();
            w.pendingEvents = 0;
            released += w.pendingWeight;
            w.pendingWeight = 0;
        }
        buffer.release(released);
        uncompressed = 0;
        for (Iterator<Writing> it = writing.values().iterator(); it.hasNext(); ) {
            if (it.next().endedAt != null) {
                it.remove();
            }
        }
        return true;
    }

    private void bindSession(PreparedStatement p, Writing w, byte[] hash) throws SQLException {
        SessionFacts f = w.facts;
        int i = 1;
        p.setString(i++, f.id());
        p.setString(i++, settings.gatewayId());
        p.setString(i++, f.identity());
        p.setString(i++, f.issuer());
        try {
            p.setString(i++, EventEncoder.JSON.writeValueAsString(f.groups()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        p.setString(i++, f.clientAddress());
        p.setString(i++, f.database());
        p.setString(i++, f.upstream());
        p.setString(i++, f.policy());
        p.setObject(i++, f.started().atOffset(ZoneOffset.UTC));
        p.setObject(i++, w.endedAt == null ? null : w.endedAt.atOffset(ZoneOffset.UTC));
        p.setString(i++, w.endReason);
        p.setLong(i++, w.statements);
        p.setLong(i++, w.events);
        p.setLong(i++, w.dropped);
        p.setInt(i++, w.nextChunk + 1);
        p.setBytes(i, hash);
    }

    private static byte[] gzip(byte[] lines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(lines.length / 4 + 64);
        // Level 1: the writer shares the machine with the sessions; frames of text still shrink several times.
        try (GZIPOutputStream gz = new GZIPOutputStream(out) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            gz.write(lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Sessions a killed gateway left without an end: each gets its session_end, chained after its last chunk. */
    private void endLeftOpen() throws SQLException {
        List<Writing> open = new ArrayList<>();
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement("SELECT session_id, identity_name, issuer, "
                + "groups_json, client_address, database_name, upstream, policy, started_at, statements, events, dropped, chunks, "
                + "head_hash FROM recording_session WHERE ended_at IS NULL"); ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                List<String> groups;
                try {
                    groups = List.of(EventEncoder.JSON.readValue(rs.getString("groups_json"), String[].class));
                } catch (IOException e) {
                    groups = List.of();
                }
                SessionFacts facts = new SessionFacts(rs.getString("session_id"), rs.getString("identity_name"),
                        rs.getString("issuer"), groups, rs.getString("client_address"), rs.getString("database_name"),
                        rs.getString("upstream"), rs.getString("policy"),
                        rs.getObject("started_at", java.time.OffsetDateTime.class).toInstant());
                Writing w = new Writing(facts);
                w.events = rs.getLong("events");
                w.statements = rs.getLong("statements");
                w.nextChunk = rs.getInt("chunks");
                w.head = rs.getBytes("head_hash");
                w.dropped = rs.getLong("dropped");
                open.add(w);
            }
        }
        if (open.isEmpty()) {
            return;
        }
        Instant now = clock.instant();
        for (Writing w : open) {
            long micros = Math.max(0, Duration.between(w.facts.started(), now).toNanos() / 1_000);
            writing.put(w.facts.id(), w);
            EventFrames end = new EventFrames(64);
            end.add(SessionRecorder.END, micros, null, GATEWAY_STOPPED, null, 0, 0);
            take(new Batch(w.facts, end, 1, 0, 0, GATEWAY_STOPPED, micros), 0);
        }
        if (!flush()) {
            throw new SQLException("the store could not be written");
        }
        LOG.warn("recording: the gateway did not stop cleanly last time: ended {} recording(s) with \"{}\"", open.size(),
                GATEWAY_STOPPED);
    }

    private void deleteExpired() {
        Instant before = clock.instant().minus(settings.retention());
        try (Connection c = store.connect()) {
            c.setAutoCommit(false);
            int sessions;
            try (PreparedStatement chunks = c.prepareStatement("DELETE FROM recording_chunk WHERE session_id IN "
                    + "(SELECT session_id FROM recording_session WHERE ended_at < ?)");
                 PreparedStatement rows = c.prepareStatement("DELETE FROM recording_session WHERE ended_at < ?")) {
                chunks.setObject(1, before.atOffset(ZoneOffset.UTC));
                chunks.executeUpdate();
                rows.setObject(1, before.atOffset(ZoneOffset.UTC));
                sessions = rows.executeUpdate();
            }
            c.commit();
            if (sessions > 0) {
                LOG.info("recording: deleted {} recording(s) of sessions that ended before {} (recording.retention {})", sessions,
                        before, settings.retention());
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warn("recording: expired recordings could not be deleted (retried in an hour): {}", e.toString());
        }
    }

    /** Runs the retention sweep now (tests, and operators through the next start). */
    void deleteExpiredNow() {
        deleteExpired();
    }

    /** Stores everything queued (the sessions have ended by now) and stops the writer. */
    @Override
    public void close() {
        accepting = false;
        retention.shutdownNow();
        queue.add(Boolean.TRUE);
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        buffer.release(bufferPermits); // nobody may wait on a closed recorder
    }
}
