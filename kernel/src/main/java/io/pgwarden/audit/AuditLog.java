package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditEvent.Outcome;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail's write side (DESIGN §9): sessions and statements are recorded in the
 * store, hash-chained, before the sinks see them.
 *
 * <h2>How a session uses it</h2>
 * <ol>
 *   <li>{@link #sessionStarted} once the identity and upstream are known;</li>
 *   <li>for every statement, {@link #recordIntent} <em>before</em> forwarding it, and forward
 *       only when the returned future completes normally: then the intent is committed to
 *       the store. Continue on the session's event loop ({@code thenAcceptAsync(…,
 *       channel.eventLoop())}): the futures complete on the audit writer thread, which must
 *       not run session code. A future that completes exceptionally
 *       ({@link AuditUnavailableException}) means the statement must be refused;</li>
 *   <li>{@link #recordOutcome} with the intent's sequence when the statement completed,
 *       failed or was refused (nobody needs to wait for that future);</li>
 *   <li>{@link #sessionEnded} when the session ends. Intents of the session still without an
 *       outcome then get an UNKNOWN one.</li>
 * </ol>
 * No method blocks: each puts a request in a bounded queue and returns a future. When the
 * queue is full the future fails at once.
 *
 * <h2>Group commit, journal first</h2>
 * One writer thread takes everything waiting in the queue (up to {@value #MAX_BATCH}
 * requests), numbers and hashes their records, appends them to the {@link AuditJournal} with
 * one write (and one {@code fdatasync} with {@code audit.fsync}) and then completes all their
 * futures. Under load the batches grow, so the cost of a write is shared by many statements.
 *
 * <h2>The store, behind</h2>
 * A flusher thread moves the journaled records into the store's tables in large batches
 * (every {@value #FLUSH_INTERVAL_MS} ms, or sooner when {@value #FLUSH_RECORDS} are waiting),
 * one transaction each, forced to the disk with {@code audit.fsync}; then it deletes the
 * journal segments the store now holds. Writing H2 at every group commit cost 250-400 µs of
 * CPU per statement (docs/performance.md); a batch of hundreds costs a few µs per record.
 * {@link #list} and {@link #verify} wait for the flusher first, so they see every record
 * whose future completed; the sinks are fed from the store and so lag by up to one flush.
 * While the store cannot be written, new requests are refused (fail closed), as before.
 *
 * <h2>Crashes</h2>
 * {@link #open} first replays into the store what the journal holds beyond the store's last
 * record (a killed gateway's last ~{@value #FLUSH_INTERVAL_MS} ms). Open sessions and intents
 * are kept in {@code audit_open}, maintained by the flusher from the records themselves, so
 * it is as complete as the store. {@link #open} then finds those a killed gateway left and appends an UNKNOWN outcome ("gateway stopped…") for each intent
 * and a SESSION_END for each session; {@link #close} does the same for what is still open
 * when the gateway stops. So an intent is never lost and never silently completed.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    /** Requests per transaction; bounds the time futures wait behind one commit. */
    static final int MAX_BATCH = 1_000;
    /**
     * How long records may wait in the journal before the flusher stores them: long enough
     * that one H2 commit carries hundreds of records under load, short enough that the sinks
     * lag by little.
     */
    static final long FLUSH_INTERVAL_MS = 200;
    /** Records waiting that wake the flusher before its interval is over. */
    static final int FLUSH_RECORDS = 5_000;
    /**
     * Beyond this many records (or {@link #MAX_UNFLUSHED_BYTES}) not yet in the store, requests
     * are refused: the store cannot keep up, and memory must stay bounded.
     */
    static final int MAX_UNFLUSHED_RECORDS = 200_000;
    static final long MAX_UNFLUSHED_BYTES = 256L << 20;
    /** Longest wait between attempts to write a failing store. */
    private static final long MAX_RETRY_MS = 5_000;
    /** Longer statements are stored cut, with their length and SHA-256 (see docs/audit.md). */
    static final int MAX_STATEMENT_CHARS = 1_000_000;
    static final String STOPPED = "gateway stopped before the outcome was recorded";
    static final String SESSION_STOPPED = "gateway stopped";
    static final String SESSION_ENDED_FIRST = "the session ended before the outcome was recorded";

    /**
     * @param gatewayId      written into every record ({@code audit.gateway_id})
     * @param redactLiterals {@code audit.redact_literals}: store statements with literals replaced
     * @param queueCapacity  requests that may wait for the writer; beyond, requests fail at once
     * @param syncEachCommit force each group commit to the disk (survives power loss, not only a crash)
     * @param delivery       how sinks are retried
     */
    public record Settings(String gatewayId, boolean redactLiterals, int queueCapacity, boolean syncEachCommit,
                           AuditOutbox.Backoff delivery) {
        public Settings {
            Objects.requireNonNull(gatewayId, "gatewayId");
            Objects.requireNonNull(delivery, "delivery");
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("queueCapacity must be at least 1");
            }
        }

        /** The gateway's settings: 20,000 waiting requests, retries from 1 s up to 1 min. */
        public static Settings defaults(String gatewayId, boolean redactLiterals, boolean fsync) {
            return new Settings(gatewayId, redactLiterals, 20_000, fsync, AuditOutbox.Backoff.DEFAULT);
        }
    }

    private final Store store;
    private final Settings settings;
    private final Clock clock;
    private final AuditReader reader;
    private final AuditOutbox outbox;
    private final BlockingQueue<Request> queue;
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private final Thread writer;
    /**
     * Completes each future on a virtual thread of its own, so that whatever a caller chained
     * onto it without an executor runs there, never on the writer: a slow or blocking
     * callback must not stall the audit of every other statement.
     */
    private final ExecutorService completer =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("pgwarden-audit-complete").factory());
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong lastQueueFullLog = new AtomicLong();
    private boolean accepting = true; // guarded by gate

    private final Path journalBase;
    private final Thread flusher;
    /**
     * Serialises the writer's journal appends with the flusher's taking of {@link #unflushed}
     * and rotation of segments. Held for one write (and fsync) at a time.
     */
    final ReentrantLock journalLock = new ReentrantLock();
    private AuditJournal journal;
    /** Journaled records not yet in the store, in order. Guarded by {@link #journalLock}. */
    private List<Journaled> unflushed = new ArrayList<>();
    private long unflushedBytes; // guarded by journalLock
    /** The last record in the journal, and the last the store holds durably. */
    private volatile long journaledThrough;
    private volatile long storedThrough;
    /** Why the store cannot be written, while it cannot: the writer then refuses requests. */
    private volatile String storeFailure;
    /** Wakes the flusher ({@link #flushRequested}) and those waiting for it ({@link #storedThrough}). */
    private final Object flushSignal = new Object();
    private boolean flushRequested; // guarded by flushSignal
    private volatile boolean flusherStopping;

    // Confined to the flusher thread (and to open() before it starts).
    private Connection connection;
    private long failedFlushes;

    // Confined to the writer thread (and to open() before the writer starts).
    private long lastSeq;
    private byte[] lastHash = ChainRecord.GENESIS;
    private final Map<String, OpenSession> sessions = new HashMap<>();
    private final Map<Long, String> intentSessions = new HashMap<>();
    private long failedBatches;

    private AuditLog(Store store, Settings settings, Clock clock, List<NamedSink> sinks, Path journalBase) {
        this.store = store;
        this.settings = settings;
        this.clock = clock;
        this.journalBase = journalBase;
        this.reader = new AuditReader(store, false);
        this.outbox = new AuditOutbox(reader, sinks, settings.delivery(), clock);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.writer = Thread.ofPlatform().name("pgwarden-audit-writer").daemon().unstarted(this::run);
        this.flusher = Thread.ofPlatform().name("pgwarden-audit-flusher").daemon().unstarted(this::flushLoop);
    }

    /** The journal beside a store: {@code <store file>.audit-journal.<n>}. */
    static java.util.Optional<Path> journalBase(Store store) {
        return store.localBase().map(b -> b.resolveSibling(b.getFileName() + ".audit-journal"));
    }

    /**
     * Creates or migrates the audit tables, closes what a crashed gateway left open, starts
     * the writer and one delivery thread per sink. The sinks belong to the log from here on:
     * {@link #close} closes them.
     */
    public static AuditLog open(Store store, Settings settings, List<NamedSink> sinks, Clock clock) throws StoreException {
        store.migrate(AuditSchema.COMPONENT, AuditSchema.MIGRATIONS);
        Path journalBase = journalBase(store).orElseThrow(() -> new StoreException("audit: the store "
                + store.displayName() + " has no folder on this machine for the audit journal; use jdbc:h2:file:PATH"));
        AuditLog log = new AuditLog(store, settings, clock, sinks, journalBase);
        try {
            log.connection = store.connect();
            log.connection.setAutoCommit(false);
            Head head = applyJournal(store, log.connection, journalBase, settings.syncEachCommit());
            log.lastSeq = head.seq();
            log.lastHash = head.hash();
            log.journaledThrough = head.seq();
            log.storedThrough = head.seq();
            log.journal = AuditJournal.openForWriting(journalBase, settings.syncEachCommit());
            log.recover();
            if (!log.flushOnce()) { // also deletes the segments just replayed
                throw new SQLException("cannot write the store: " + log.storeFailure);
            }
        } catch (SQLException | java.io.IOException e) {
            log.closeConnection();
            if (log.journal != null) {
                log.journal.close();
            }
            throw new StoreException("audit: cannot read the audit tables of " + store.displayName() + " or its journal: "
                    + e.getMessage(), e);
        }
        log.writer.start();
        log.flusher.start();
        log.outbox.start();
        LOG.info("audit log open: {} records, {} sink(s){}{}", log.lastSeq, sinks.size(),
                settings.redactLiterals() ? ", statement literals redacted" : "",
                settings.syncEachCommit() ? "" : ", commits not forced to disk");
        return log;
    }

    public boolean redactsLiterals() {
        return settings.redactLiterals();
    }

    /**
     * The statement text to record: {@code normalized} (literals replaced by $n) when
     * {@code audit.redact_literals} is on, else {@code raw}. The normalized text is only
     * computed when it is needed.
     */
    public String statementText(String raw, Supplier<String> normalized) {
        return settings.redactLiterals() ? normalized.get() : raw;
    }

    /** Records a session's start; completes with the record's sequence number once committed. */
    public CompletableFuture<Long> sessionStarted(SessionContext session) {
        Objects.requireNonNull(session, "session");
        return submit(new StartRequest(session, now(), new CompletableFuture<>()));
    }

    /**
     * Records a statement before it is forwarded. Completes, once the record is committed,
     * with the intent's sequence number (for {@link #recordOutcome}); or exceptionally with
     * {@link AuditUnavailableException} (store failing, queue full, log closed) or
     * {@link IllegalStateException} (the session was not started or has ended): in both cases
     * the statement must not be forwarded.
     */
    public CompletableFuture<Long> recordIntent(String sessionId, StatementIntent statement) {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(statement, "statement");
        return submit(new IntentRequest(sessionId, statement, now(), new CompletableFuture<>()));
    }

    /**
     * Records what became of a statement. Completes once committed; fails with
     * {@link IllegalStateException} when {@code intentSequence} is not an open intent (no
     * such intent, it already has an outcome, or its session ended first).
     */
    public CompletableFuture<Void> recordOutcome(long intentSequence, StatementOutcome outcome) {
        Objects.requireNonNull(outcome, "outcome");
        return submit(new OutcomeRequest(intentSequence, outcome, now(), new CompletableFuture<>()));
    }

    /** Records a session's end, and UNKNOWN outcomes for its intents that have none. */
    public CompletableFuture<Void> sessionEnded(String sessionId, String reason) {
        Objects.requireNonNull(sessionId, "sessionId");
        return submit(new EndRequest(sessionId, reason, now(), new CompletableFuture<>()));
    }

    /** The read side, on this log's store. */
    public AuditReader reader() {
        return reader;
    }

    /** See {@link AuditReader#list}. */
    public List<AuditEntry> list(String identity, Instant since, int limit) throws StoreException {
        awaitStored();
        return reader.list(identity, since, limit);
    }

    /** See {@link AuditReader#verify}. */
    public VerifyResult verify() throws StoreException {
        awaitStored();
        return reader.verify();
    }

    /**
     * Waits until the store holds every record journaled so far (the flusher is asked to
     * write now), so that a read sees every record whose future completed.
     */
    private void awaitStored() throws StoreException {
        long target = journaledThrough;
        if (storedThrough >= target) {
            return;
        }
        requestFlush();
        long deadline = System.nanoTime() + AWAIT_STORED.toNanos();
        synchronized (flushSignal) {
            while (storedThrough < target) {
                String failure = storeFailure;
                if (failure != null) {
                    throw new StoreException("audit: the store cannot be written (" + failure + "); records up to "
                            + target + " are safe in the journal and are stored when it works again");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !flusher.isAlive()) {
                    throw new StoreException("audit: the store did not take the journaled records within "
                            + AWAIT_STORED.toSeconds() + " s");
                }
                try {
                    flushSignal.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new StoreException("audit: interrupted while waiting for the store", e);
                }
            }
        }
    }

    private static final Duration AWAIT_STORED = Duration.ofSeconds(30);

    private void requestFlush() {
        synchronized (flushSignal) {
            flushRequested = true;
            flushSignal.notifyAll();
        }
    }

    /** Group writes to the journal since {@link #open}: fewer than records under load. */
    public long commits() {
        return commits.get();
    }

    /** Records journaled by the writer since {@link #open} (not those replayed from an earlier run's journal). */
    public long recordsWritten() {
        return recordsWritten.get();
    }

    /** The last record the store holds durably (the rest is only in the journal so far). */
    long storedThrough() {
        return storedThrough;
    }

    private Instant now() {
        return clock.instant();
    }

    private <T> CompletableFuture<T> submit(Request request) {
        @SuppressWarnings("unchecked")
        CompletableFuture<T> future = (CompletableFuture<T>) request.future();
        gate.readLock().lock();
        try {
            if (!accepting || !writer.isAlive()) {
                future.completeExceptionally(new AuditUnavailableException("the audit log is closed"));
            } else if (!queue.offer(request)) {
                long now = System.nanoTime();
                long last = lastQueueFullLog.get();
                if (now - last > TimeUnit.SECONDS.toNanos(10) && lastQueueFullLog.compareAndSet(last, now)) {
                    LOG.error("audit queue full ({} requests wait for the store): statements are refused until it drains",
                            settings.queueCapacity());
                }
                future.completeExceptionally(new AuditUnavailableException("the audit queue is full"));
            }
        } finally {
            gate.readLock().unlock();
        }
        return future;
    }

    // ---------------------------------------------------------------- writer thread

    private void run() {
        List<Request> batch = new ArrayList<>(MAX_BATCH);
        while (true) {
            Request first;
            try {
                first = queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (first == null) {
                gate.readLock().lock();
                try {
                    if (!accepting && queue.isEmpty()) {
                        break;
                    }
                } finally {
                    gate.readLock().unlock();
                }
                continue;
            }
            batch.add(first);
            queue.drainTo(batch, MAX_BATCH - 1);
            try {
                process(batch);
            } catch (RuntimeException e) {
                // A bug, not a store failure: the writer must survive it, or every later
                // request would wait forever.
                LOG.error("audit writer: unexpected failure; {} request(s) refused", batch.size(), e);
                AuditUnavailableException failure = new AuditUnavailableException("internal audit failure", e);
                List<CompletableFuture<?>> futures = batch.stream().<CompletableFuture<?>>map(Request::future).toList();
                futures.forEach(f -> completer.execute(() -> f.completeExceptionally(failure)));
            }
            batch.clear();
        }
        if (!sessions.isEmpty() || !intentSessions.isEmpty()) {
            Transaction tx = new Transaction(now());
            closeEverythingOpen(tx);
            if (!persist(tx)) {
                LOG.error("audit: could not record the end of {} open session(s) at shutdown; the next start will",
                        sessions.size());
            }
        }
    }

    private void process(List<Request> batch) {
        Transaction tx = new Transaction(null);
        try {
            for (Request r : batch) {
                try {
                    apply(r, tx);
                } catch (IllegalStateException e) {
                    completer.execute(() -> r.future().completeExceptionally(e));
                }
            }
        } catch (RuntimeException e) {
            tx.rollBack(); // memory stays as the store has it
            throw e;
        }
        if (tx.records.isEmpty()) {
            return;
        }
        persist(tx);
    }

    /** Turns one request into records of {@code tx}, updating the open sessions and intents. */
    private void apply(Request request, Transaction tx) {
        switch (request) {
            case StartRequest r -> {
                SessionContext s = r.session();
                if (sessions.containsKey(s.sessionId())) {
                    throw new IllegalStateException("audit: session " + s.sessionId() + " was already started");
                }
                long seq = tx.append(session(ChainRecord.Kind.SESSION_START, s, r.at(), null));
                OpenSession open = new OpenSession(s, seq, new TreeSet<>());
                sessions.put(s.sessionId(), open);
                tx.undo(() -> sessions.remove(s.sessionId()));
                tx.complete(r.future(), seq);
            }
            case IntentRequest r -> {
                tx.durable = true; // the statement waits for this record to be on disk
                OpenSession open = sessions.get(r.sessionId());
                if (open == null) {
                    throw new IllegalStateException("audit: session " + r.sessionId() + " is not open (not started, or ended)");
                }
                SessionContext s = open.context();
                StatementIntent st = r.statement();
                long seq = tx.append(new ChainRecord(0, ChainRecord.Kind.INTENT, r.at(), settings.gatewayId(),
                        s.sessionId(), s.identity(), s.issuer(), s.groups(), s.clientAddress(), s.database(), s.upstream(),
                        bounded(st.text()), st.fingerprint(), st.command(), st.relations(), st.decision(), st.reason(),
                        null, null, null, null, null));
                open.intents().add(seq);
                intentSessions.put(seq, s.sessionId());
                tx.undo(() -> {
                    open.intents().remove(seq);
                    intentSessions.remove(seq);
                });
                tx.complete(r.future(), seq);
            }
            case OutcomeRequest r -> {
                String sessionId = intentSessions.get(r.intentSeq());
                if (sessionId == null) {
                    throw new IllegalStateException("audit: " + r.intentSeq() + " is not an open intent "
                            + "(no such intent, it has an outcome already, or its session ended first)");
                }
                StatementOutcome o = r.outcome();
                outcome(tx, sessionId, r.intentSeq(), o.outcome().name(), o.rows(), o.sqlstate(),
                        o.duration() == null ? null : o.duration().toNanos() / 1_000, null, r.at());
                tx.complete(r.future(), null);
            }
            case EndRequest r -> {
                OpenSession open = sessions.get(r.sessionId());
                if (open == null) {
                    throw new IllegalStateException("audit: session " + r.sessionId() + " is not open (not started, or ended)");
                }
                endSession(tx, open, r.reason(), SESSION_ENDED_FIRST, r.at());
                tx.complete(r.future(), null);
            }
        }
    }

    private void outcome(Transaction tx, String sessionId, long intentSeq, String outcome, Long rows, String sqlstate,
                         Long durationMicros, String reason, Instant at) {
        tx.append(new ChainRecord(0, ChainRecord.Kind.OUTCOME, at, settings.gatewayId(), sessionId, null, null, List.of(),
                null, null, null, null, null, null, List.of(), null, reason, intentSeq, outcome, rows, sqlstate,
                durationMicros));
        intentSessions.remove(intentSeq);
        OpenSession open = sessions.get(sessionId);
        if (open != null) {
            open.intents().remove(intentSeq);
        }
        tx.undo(() -> {
            intentSessions.put(intentSeq, sessionId);
            if (open != null) {
                open.intents().add(intentSeq);
            }
        });
    }

    private void endSession(Transaction tx, OpenSession open, String reason, String unknownReason, Instant at) {
        String id = open.context().sessionId();
        for (long intent : List.copyOf(open.intents())) {
            outcome(tx, id, intent, Outcome.UNKNOWN.name(), null, null, null, unknownReason, at);
        }
        tx.append(session(ChainRecord.Kind.SESSION_END, open.context(), at, reason));
        sessions.remove(id);
        tx.undo(() -> sessions.put(id, open));
    }

    /** UNKNOWN outcomes and SESSION_ENDs for everything open: at shutdown, and after a crash. */
    private void closeEverythingOpen(Transaction tx) {
        Instant at = tx.at != null ? tx.at : now();
        // Intents whose session record was not found (a changed store) still get their outcome.
        for (Map.Entry<Long, String> orphan : List.copyOf(intentSessions.entrySet())) {
            if (!sessions.containsKey(orphan.getValue())) {
                outcome(tx, orphan.getValue(), orphan.getKey(), Outcome.UNKNOWN.name(), null, null, null, STOPPED, at);
            }
        }
        for (OpenSession open : List.copyOf(sessions.values())) {
            endSession(tx, open, SESSION_STOPPED, STOPPED, at);
        }
    }

    private ChainRecord session(ChainRecord.Kind kind, SessionContext s, Instant at, String reason) {
        return new ChainRecord(0, kind, at, settings.gatewayId(), s.sessionId(), s.identity(), s.issuer(), s.groups(),
                s.clientAddress(), s.database(), s.upstream(), null, null, null, List.of(), null, reason, null, null,
                null, null, null);
    }

    /** Statements beyond {@value #MAX_STATEMENT_CHARS} characters are cut, keeping their length and digest. */
    static String bounded(String text) {
        if (text.length() <= MAX_STATEMENT_CHARS) {
            return text;
        }
        int cut = Character.isHighSurrogate(text.charAt(MAX_STATEMENT_CHARS - 1)) ? MAX_STATEMENT_CHARS - 1 : MAX_STATEMENT_CHARS;
        String digest = HexFormat.of().formatHex(ChainRecord.sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
        return text.substring(0, cut) + "…[truncated: " + text.length() + " characters in all, SHA-256 of the UTF-8 text "
                + digest + "]";
    }

    /**
     * Numbers and hashes {@code tx}'s records and appends them to the journal with one write
     * (forced to the disk with {@code audit.fsync}). On success the chain moves on, the records
     * wait for the flusher, and every future completes; on failure nothing of it stays,
     * neither in the journal nor in memory, and every future fails with
     * {@link AuditUnavailableException}. While the store cannot be written or is too far
     * behind, nothing is journaled and the futures fail the same way (fail closed).
     */
    private boolean persist(Transaction tx) {
        String refusal = storeFailure;
        if (refusal == null && (pendingRecords() > MAX_UNFLUSHED_RECORDS || pendingBytes() > MAX_UNFLUSHED_BYTES)) {
            refusal = "the store is more than " + MAX_UNFLUSHED_RECORDS + " records or "
                    + (MAX_UNFLUSHED_BYTES >> 20) + " MB behind the journal";
            requestFlush();
        }
        if (refusal != null) {
            tx.rollBack();
            if (failedBatches++ == 0) {
                LOG.error("audit store {} cannot be written ({}): statements that need an audit record are refused "
                        + "until it works again", store.displayName(), refusal);
            }
            tx.failAll(new AuditUnavailableException("the audit store cannot be written: " + refusal));
            return false;
        }
        long seq = lastSeq;
        byte[] hash = lastHash;
        List<Journaled> written = new ArrayList<>(tx.records.size());
        List<byte[]> encoded = new ArrayList<>(tx.records.size());
        List<byte[]> hashes = new ArrayList<>(tx.records.size());
        int bytes = 0;
        for (ChainRecord pending : tx.records) {
            seq++;
            ChainRecord record = pending.withSeq(seq);
            byte[] canonical = record.canonical();
            hash = ChainRecord.hash(hash, canonical);
            written.add(new Journaled(record, hash));
            encoded.add(canonical);
            hashes.add(hash);
            bytes += AuditJournal.entryBytes(canonical, hash);
        }
        journalLock.lock();
        try {
            journal.append(encoded, hashes, tx.durable);
            unflushed.addAll(written);
            unflushedBytes += bytes;
            journaledThrough = seq;
        } catch (java.io.IOException | RuntimeException e) {
            tx.rollBack();
            if (failedBatches++ == 0) {
                LOG.error("audit journal write failed ({}): statements that need an audit record are refused until "
                        + "it works again", journalBase, e);
            } else {
                LOG.debug("audit journal write failed again", e);
            }
            tx.failAll(new AuditUnavailableException("the audit journal cannot be written: " + e.getMessage(), e));
            return false;
        } finally {
            journalLock.unlock();
        }
        lastSeq = seq;
        lastHash = hash;
        commits.incrementAndGet();
        recordsWritten.addAndGet(written.size());
        if (failedBatches > 0) {
            LOG.warn("audit records are written again after {} refused batch(es)", failedBatches);
            failedBatches = 0;
        }
        tx.completeAll();
        if (pendingRecords() >= FLUSH_RECORDS) {
            requestFlush();
        }
        return true;
    }

    private int pendingRecords() {
        journalLock.lock();
        try {
            return unflushed.size();
        } finally {
            journalLock.unlock();
        }
    }

    private long pendingBytes() {
        journalLock.lock();
        try {
            return unflushedBytes;
        } finally {
            journalLock.unlock();
        }
    }

    // ---------------------------------------------------------------- flusher thread

    private void flushLoop() {
        long retry = FLUSH_INTERVAL_MS;
        while (true) {
            boolean stopping;
            synchronized (flushSignal) {
                if (!flushRequested && !flusherStopping) {
                    try {
                        flushSignal.wait(storeFailure != null ? retry : FLUSH_INTERVAL_MS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                flushRequested = false;
                stopping = flusherStopping;
            }
            boolean ok;
            try {
                ok = flushOnce();
            } catch (RuntimeException e) {
                LOG.error("audit flusher: unexpected failure", e);
                ok = false;
            }
            retry = ok ? FLUSH_INTERVAL_MS : Math.min(retry * 2, MAX_RETRY_MS);
            if (stopping) {
                return;
            }
        }
    }

    /**
     * Moves every journaled record not yet stored into the store in one transaction, forced
     * to the disk with {@code audit.fsync}, and deletes the journal segments the store now
     * holds. Before taking the records it starts a new segment, so that the segments it
     * deletes hold only records of this and earlier flushes.
     */
    private boolean flushOnce() {
        AuditJournal.Segment next = null;
        boolean rotate;
        journalLock.lock();
        try {
            if (unflushed.isEmpty() && journal.closedSegments().isEmpty()) {
                return true;
            }
            rotate = journal.currentHasEntries();
        } catch (java.io.IOException e) {
            rotate = false;
        } finally {
            journalLock.unlock();
        }
        if (rotate) {
            try {
                next = journal.prepareNext(); // slow (create, fsync file and folder): outside the lock
            } catch (java.io.IOException e) {
                LOG.warn("audit journal: cannot start a new segment ({}); the current one is kept", e.toString());
            }
        }
        List<Journaled> batch;
        long batchBytes;
        List<AuditJournal.Segment> done;
        journalLock.lock();
        try {
            if (next != null) {
                journal.swap(next);
            }
            batch = unflushed;
            batchBytes = unflushedBytes;
            unflushed = new ArrayList<>();
            unflushedBytes = 0;
            done = journal.closedSegments();
        } finally {
            journalLock.unlock();
        }
        try {
            if (!batch.isEmpty()) {
                if (connection == null) {
                    connection = store.connect();
                    connection.setAutoCommit(false);
                }
                writeToStore(connection, batch);
                connection.commit();
                if (settings.syncEachCommit()) {
                    store.sync(connection);
                }
            }
        } catch (SQLException | RuntimeException e) {
            rollback();
            journalLock.lock();
            try {
                batch.addAll(unflushed);
                unflushed = batch;
                unflushedBytes += batchBytes;
            } finally {
                journalLock.unlock();
            }
            if (failedFlushes++ == 0) {
                LOG.error("audit store write failed ({}): the records are safe in the journal; statements that need an "
                        + "audit record are refused until the store works again", store.displayName(), e);
            } else {
                LOG.debug("audit store write failed again", e);
            }
            storeFailure = String.valueOf(e.getMessage());
            synchronized (flushSignal) {
                flushSignal.notifyAll();
            }
            return false;
        }
        if (!batch.isEmpty()) {
            storedThrough = batch.getLast().record().seq();
        }
        journal.delete(done);
        if (storeFailure != null) {
            LOG.warn("audit store writes again after {} failed attempt(s)", failedFlushes);
            storeFailure = null;
        }
        failedFlushes = 0;
        synchronized (flushSignal) {
            flushSignal.notifyAll();
        }
        outbox.wake();
        return true;
    }

    /**
     * Inserts journaled records into {@code audit_record}, keeps {@code audit_open} in step
     * (derived from the records: a SESSION_START or INTENT opens, an OUTCOME closes its
     * intent, a SESSION_END its session) and moves {@code audit_head}. Does not commit.
     */
    static void writeToStore(Connection c, List<Journaled> batch) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO audit_record ("
                + AuditSchema.RECORD_COLUMNS + ", hash) VALUES (" + "?, ".repeat(22) + "?)")) {
            int n = 0;
            for (Journaled j : batch) {
                j.record().bind(insert, j.hash());
                insert.addBatch();
                if (++n % 1_000 == 0) {
                    insert.executeBatch();
                }
            }
            insert.executeBatch();
        }
        Map<Long, ChainRecord> opened = new LinkedHashMap<>();
        Map<String, Long> startedHere = new HashMap<>();
        List<Long> closedIntents = new ArrayList<>();
        List<String> endedSessions = new ArrayList<>();
        for (Journaled j : batch) {
            ChainRecord r = j.record();
            switch (r.kind()) {
                case SESSION_START -> {
                    opened.put(r.seq(), r);
                    startedHere.put(r.sessionId(), r.seq());
                }
                case INTENT -> opened.put(r.seq(), r);
                case OUTCOME -> {
                    if (r.intentSeq() != null && opened.remove(r.intentSeq()) == null) {
                        closedIntents.add(r.intentSeq());
                    }
                }
                case SESSION_END -> {
                    Long start = startedHere.remove(r.sessionId());
                    if (start == null || opened.remove(start) == null) {
                        endedSessions.add(r.sessionId());
                    }
                }
            }
        }
        if (!opened.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO audit_open (seq, kind, session_id, gateway_id) VALUES (?, ?, ?, ?)")) {
                for (ChainRecord r : opened.values()) {
                    p.setLong(1, r.seq());
                    p.setString(2, r.kind() == ChainRecord.Kind.INTENT ? "INTENT" : "SESSION");
                    p.setString(3, r.sessionId());
                    p.setString(4, r.gatewayId());
                    p.addBatch();
                }
                p.executeBatch();
            }
        }
        if (!closedIntents.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM audit_open WHERE seq = ?")) {
                for (long seq : closedIntents) {
                    p.setLong(1, seq);
                    p.addBatch();
                }
                p.executeBatch();
            }
        }
        if (!endedSessions.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement(
                    "DELETE FROM audit_open WHERE kind = 'SESSION' AND session_id = ?")) {
                for (String id : endedSessions) {
                    p.setString(1, id);
                    p.addBatch();
                }
                p.executeBatch();
            }
        }
        try (PreparedStatement p = c.prepareStatement(
                "MERGE INTO audit_head (id, last_seq, hash) KEY (id) VALUES (1, ?, ?)")) {
            p.setLong(1, batch.getLast().record().seq());
            p.setBytes(2, batch.getLast().hash());
            p.executeUpdate();
        }
    }

    private void rollback() {
        if (connection == null) {
            return;
        }
        try {
            connection.rollback();
        } catch (SQLException e) {
            closeConnection(); // a connection that cannot roll back is replaced
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // replaced or closing anyway
            }
            connection = null;
        }
    }

    // ---------------------------------------------------------------- start-up

    /**
     * Brings the store up to date with the journal beside it: the records the journal holds
     * beyond the store's last one (those a killed gateway had not yet flushed) are checked
     * (consecutive, each continuing the hash chain) and stored in one transaction. The
     * journal itself is left as it is. Used at start and by {@link AuditReader} on the store
     * of a stopped gateway.
     *
     * @return the store's last record afterwards
     * @throws SQLException when the journal does not continue the store's chain: records are
     *                      missing between them, or one was changed
     */
    static Head applyJournal(Store store, Connection c, Path journalBase, boolean sync) throws SQLException, java.io.IOException {
        Head head = loadHead(c);
        AuditJournal.Contents contents = AuditJournal.read(journalBase);
        List<Journaled> missing = new ArrayList<>();
        long expected = head.seq() + 1;
        byte[] previous = head.hash();
        for (AuditJournal.Entry e : contents.entries()) {
            long seq = e.record().seq();
            if (seq < expected) {
                continue; // already in the store
            }
            if (seq != expected) {
                throw new SQLException("the audit journal " + journalBase + " continues at record " + seq
                        + " but the store ends at record " + (expected - 1) + ": records are missing; the journal or the "
                        + "store was changed outside the gateway");
            }
            byte[] hash = ChainRecord.hash(previous, e.record().canonical());
            if (!MessageDigest.isEqual(hash, e.hash())) {
                throw new SQLException("the audit journal " + journalBase + ": record " + seq + " does not continue the "
                        + "hash chain of the store; the journal or the store was changed outside the gateway");
            }
            missing.add(new Journaled(e.record(), hash));
            previous = hash;
            expected++;
        }
        if (missing.isEmpty()) {
            return head;
        }
        try {
            writeToStore(c, missing);
            c.commit();
            if (sync) {
                store.sync(c);
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
        LOG.warn("audit: stored {} record(s) (through {}) from the journal that the last run had not yet stored", missing.size(),
                expected - 1);
        return new Head(expected - 1, previous);
    }

    private static Head loadHead(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1")) {
            Head head = rs.next() ? new Head(rs.getLong(1), rs.getBytes(2)) : new Head(0, ChainRecord.GENESIS);
            c.commit();
            return head;
        }
    }

    /** Finds what a gateway that did not stop cleanly left open, and closes it in the chain. */
    private void recover() throws SQLException {
        Map<Long, String[]> open = new LinkedHashMap<>();
        // The H2 file admits one gateway at a time, so whatever is open belongs to a run that
        // is over, whatever gateway_id it had (a shared store would filter on gateway_id here).
        try (PreparedStatement p = connection.prepareStatement("SELECT seq, kind, session_id FROM audit_open ORDER BY seq")) {
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    open.put(rs.getLong(1), new String[] {rs.getString(2), rs.getString(3)});
                }
            }
        }
        connection.commit();
        if (open.isEmpty()) {
            return;
        }
        int intents = 0;
        try (PreparedStatement p = connection.prepareStatement(
                "SELECT " + AuditSchema.RECORD_COLUMNS + " FROM audit_record WHERE seq = ?")) {
            for (Map.Entry<Long, String[]> e : open.entrySet()) {
                if (e.getValue()[0].equals("SESSION")) {
                    p.setLong(1, e.getKey());
                    try (ResultSet rs = p.executeQuery()) {
                        if (rs.next()) {
                            ChainRecord r = ChainRecord.read(rs, "");
                            SessionContext s = new SessionContext(r.sessionId(), r.identity(), r.issuer(), r.groups(),
                                    r.clientAddress(), r.database(), r.upstream());
                            sessions.put(s.sessionId(), new OpenSession(s, e.getKey(), new TreeSet<>()));
                        }
                    }
                }
            }
        }
        for (Map.Entry<Long, String[]> e : open.entrySet()) {
            if (e.getValue()[0].equals("INTENT")) {
                intents++;
                intentSessions.put(e.getKey(), e.getValue()[1]);
                OpenSession s = sessions.get(e.getValue()[1]);
                if (s != null) {
                    s.intents().add(e.getKey());
                }
            }
        }
        connection.commit();
        if (sessions.isEmpty() && intentSessions.isEmpty()) {
            return;
        }
        int openSessions = sessions.size();
        Transaction tx = new Transaction(now());
        closeEverythingOpen(tx);
        if (!persist(tx)) {
            throw new SQLException("cannot record the outcome of what the last run left open");
        }
        LOG.warn("audit: the gateway did not stop cleanly last time: recorded {} statement(s) with outcome unknown "
                + "and the end of {} session(s)", intents, openSessions);
    }

    // ---------------------------------------------------------------- shutdown

    /**
     * Stops accepting requests, writes everything queued, records UNKNOWN outcomes and
     * session ends for what is still open, gives the sinks a few seconds to take the rest
     * (whatever they do not take is delivered after the next start), and closes the sinks.
     * The store stays open: its owner closes it.
     */
    @Override
    public void close() {
        gate.writeLock().lock();
        try {
            if (!accepting) {
                return;
            }
            accepting = false;
        } finally {
            gate.writeLock().unlock();
        }
        try {
            writer.join(Duration.ofSeconds(30));
            if (writer.isAlive()) {
                LOG.error("audit: the writer did not finish within 30 s; open sessions will be closed at the next start");
                writer.interrupt();
                writer.join(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flusherStopping = true;
        requestFlush();
        try {
            flusher.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        journalLock.lock();
        try {
            if (unflushed.isEmpty() && !flusher.isAlive()) {
                journal.deleteAll(); // the store holds everything: a clean stop leaves no journal
            } else {
                journal.close();
                LOG.error("audit: {} record(s) could not be written to the store at shutdown; they are in the journal "
                        + "and are stored at the next start", unflushed.size());
            }
        } finally {
            journalLock.unlock();
        }
        completer.shutdown();
        outbox.close(Duration.ofSeconds(5));
        closeConnection();
        LOG.info("audit log closed: {} records in the chain", lastSeq);
    }

    // ---------------------------------------------------------------- types

    private sealed interface Request permits StartRequest, IntentRequest, OutcomeRequest, EndRequest {
        CompletableFuture<?> future();
    }

    private record StartRequest(SessionContext session, Instant at, CompletableFuture<Long> future) implements Request {
    }

    private record IntentRequest(String sessionId, StatementIntent statement, Instant at, CompletableFuture<Long> future)
            implements Request {
    }

    private record OutcomeRequest(long intentSeq, StatementOutcome outcome, Instant at, CompletableFuture<Void> future)
            implements Request {
    }

    private record EndRequest(String sessionId, String reason, Instant at, CompletableFuture<Void> future)
            implements Request {
    }

    private record OpenSession(SessionContext context, long startSeq, TreeSet<Long> intents) {
    }

    /** A record in the journal, waiting for the store. */
    record Journaled(ChainRecord record, byte[] hash) {
    }

    /** The store's last record. */
    record Head(long seq, byte[] hash) {
    }

    /**
     * The records of one group commit before they are written. Sequence numbers are
     * {@code lastSeq + position}; {@link #append} returns the one a record will get.
     */
    private final class Transaction {
        final Instant at;
        /**
         * Whether the journal write must be forced to disk before the futures complete: only
         * when a statement waits for its intent. Outcomes, session starts and ends are written
         * without a sync of their own and reach the disk with the next intent's (or the store's)
         * sync; a kill of the process loses none of them (they are in the page cache), a power
         * failure can lose the last ones (their intents then get UNKNOWN outcomes at the next
         * start). Measured: an outcome-only fdatasync made every intent behind it wait twice.
         */
        boolean durable;
        final List<ChainRecord> records = new ArrayList<>();
        private final List<Runnable> undo = new ArrayList<>();
        private final List<CompletableFuture<?>> futures = new ArrayList<>();
        private final List<Long> values = new ArrayList<>();

        Transaction(Instant at) {
            this.at = at;
        }

        long append(ChainRecord record) {
            records.add(record);
            return lastSeq + records.size();
        }

        void undo(Runnable action) {
            undo.add(action);
        }

        void complete(CompletableFuture<?> future, Long value) {
            futures.add(future);
            values.add(value);
        }

        @SuppressWarnings("unchecked")
        void completeAll() {
            for (int i = 0; i < futures.size(); i++) {
                CompletableFuture<Object> f = (CompletableFuture<Object>) futures.get(i);
                Object value = values.get(i);
                completer.execute(() -> f.complete(value));
            }
        }

        void rollBack() {
            for (Runnable r : undo.reversed()) {
                r.run();
            }
        }

        void failAll(Throwable cause) {
            for (CompletableFuture<?> f : futures) {
                completer.execute(() -> f.completeExceptionally(cause));
            }
        }
    }
}
