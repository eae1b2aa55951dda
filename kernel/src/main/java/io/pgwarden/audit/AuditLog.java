package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditEvent.Outcome;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.nio.charset.StandardCharsets;
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
 * <h2>Group commit</h2>
 * One writer thread takes everything waiting in the queue (up to {@value #MAX_BATCH}
 * requests), inserts the records in one transaction, commits once (H2 writes the commit to
 * the file before it returns) and then completes all their futures. Under load the batches
 * grow, so the cost of a commit is shared by many statements.
 *
 * <h2>Crashes</h2>
 * Open sessions and intents are also kept in {@code audit_open}. {@link #open} finds those a
 * killed gateway left and appends an UNKNOWN outcome ("gateway stopped…") for each intent
 * and a SESSION_END for each session; {@link #close} does the same for what is still open
 * when the gateway stops. So an intent is never lost and never silently completed.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    /** Requests per transaction; bounds the time futures wait behind one commit. */
    static final int MAX_BATCH = 1_000;
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

    // Confined to the writer thread (and to open() before the writer starts).
    private Connection connection;
    private long lastSeq;
    private byte[] lastHash = ChainRecord.GENESIS;
    private final Map<String, OpenSession> sessions = new HashMap<>();
    private final Map<Long, String> intentSessions = new HashMap<>();
    private long failedBatches;

    private AuditLog(Store store, Settings settings, Clock clock, List<NamedSink> sinks) {
        this.store = store;
        this.settings = settings;
        this.clock = clock;
        this.reader = new AuditReader(store);
        this.outbox = new AuditOutbox(reader, sinks, settings.delivery(), clock);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.writer = Thread.ofPlatform().name("pgwarden-audit-writer").daemon().unstarted(this::run);
    }

    /**
     * Creates or migrates the audit tables, closes what a crashed gateway left open, starts
     * the writer and one delivery thread per sink. The sinks belong to the log from here on:
     * {@link #close} closes them.
     */
    public static AuditLog open(Store store, Settings settings, List<NamedSink> sinks, Clock clock) throws StoreException {
        store.migrate(AuditSchema.COMPONENT, AuditSchema.MIGRATIONS);
        AuditLog log = new AuditLog(store, settings, clock, sinks);
        try {
            log.connection = store.connect();
            log.connection.setAutoCommit(false);
            log.loadHead();
            log.recover();
        } catch (SQLException e) {
            log.closeConnection();
            throw new StoreException("audit: cannot read the audit tables of " + store.displayName() + ": " + e.getMessage(), e);
        }
        log.writer.start();
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
        return reader.list(identity, since, limit);
    }

    /** See {@link AuditReader#verify}. */
    public VerifyResult verify() throws StoreException {
        return reader.verify();
    }

    /** Transactions committed by the writer since {@link #open}: fewer than records under load. */
    public long commits() {
        return commits.get();
    }

    /** Records committed by the writer since {@link #open}. */
    public long recordsWritten() {
        return recordsWritten.get();
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
                tx.open(seq, "SESSION", s.sessionId());
                OpenSession open = new OpenSession(s, seq, new TreeSet<>());
                sessions.put(s.sessionId(), open);
                tx.undo(() -> sessions.remove(s.sessionId()));
                tx.complete(r.future(), seq);
            }
            case IntentRequest r -> {
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
                tx.open(seq, "INTENT", s.sessionId());
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
        tx.close(intentSeq);
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
        tx.close(open.startSeq());
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
     * Writes {@code tx} in one transaction. On success the chain moves on and every future
     * completes; on failure nothing of it stays, neither in the store nor in memory, and
     * every future fails with {@link AuditUnavailableException}.
     */
    private boolean persist(Transaction tx) {
        try {
            if (connection == null) {
                connection = store.connect();
                connection.setAutoCommit(false);
            }
            long seq = lastSeq;
            byte[] hash = lastHash;
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO audit_record ("
                    + AuditSchema.RECORD_COLUMNS + ", hash) VALUES (" + "?, ".repeat(22) + "?)")) {
                for (ChainRecord pending : tx.records) {
                    seq++;
                    ChainRecord record = pending.withSeq(seq);
                    hash = record.hash(hash);
                    record.bind(insert, hash);
                    insert.addBatch();
                }
                insert.executeBatch();
            }
            if (!tx.opened.isEmpty()) {
                try (PreparedStatement p = connection.prepareStatement(
                        "INSERT INTO audit_open (seq, kind, session_id, gateway_id) VALUES (?, ?, ?, ?)")) {
                    for (Map.Entry<Long, String[]> e : tx.opened.entrySet()) {
                        p.setLong(1, lastSeq + e.getKey());
                        p.setString(2, e.getValue()[0]);
                        p.setString(3, e.getValue()[1]);
                        p.setString(4, settings.gatewayId());
                        p.addBatch();
                    }
                    p.executeBatch();
                }
            }
            if (!tx.closed.isEmpty()) {
                try (PreparedStatement p = connection.prepareStatement("DELETE FROM audit_open WHERE seq = ?")) {
                    for (long s : tx.closed) {
                        p.setLong(1, s);
                        p.addBatch();
                    }
                    p.executeBatch();
                }
            }
            try (PreparedStatement p = connection.prepareStatement(
                    "MERGE INTO audit_head (id, last_seq, hash) KEY (id) VALUES (1, ?, ?)")) {
                p.setLong(1, seq);
                p.setBytes(2, hash);
                p.executeUpdate();
            }
            connection.commit();
            if (settings.syncEachCommit()) {
                store.sync(connection);
            }
            lastSeq = seq;
            lastHash = hash;
            commits.incrementAndGet();
            recordsWritten.addAndGet(tx.records.size());
            if (failedBatches > 0) {
                LOG.warn("audit store writes again after {} failed batch(es)", failedBatches);
                failedBatches = 0;
            }
            tx.completeAll();
            outbox.wake();
            return true;
        } catch (SQLException | RuntimeException e) {
            rollback();
            tx.rollBack();
            if (failedBatches++ == 0) {
                LOG.error("audit store write failed ({}): statements that need an audit record are refused until "
                        + "it works again", store.displayName(), e);
            } else {
                LOG.debug("audit store write failed again", e);
            }
            AuditUnavailableException failure =
                    new AuditUnavailableException("the audit store cannot be written: " + e.getMessage(), e);
            tx.failAll(failure);
            return false;
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

    private void loadHead() throws SQLException {
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1")) {
            if (rs.next()) {
                lastSeq = rs.getLong(1);
                lastHash = rs.getBytes(2);
            }
        }
        connection.commit();
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

    /**
     * The records of one group commit before they are written. Sequence numbers are
     * {@code lastSeq + position}; {@link #append} returns the one a record will get.
     */
    private final class Transaction {
        final Instant at;
        final List<ChainRecord> records = new ArrayList<>();
        /** Position in this transaction (1-based) → kind, session id. */
        final Map<Long, String[]> opened = new LinkedHashMap<>();
        final List<Long> closed = new ArrayList<>();
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

        void open(long seq, String kind, String sessionId) {
            opened.put(seq - lastSeq, new String[] {kind, sessionId});
        }

        void close(long seq) {
            if (opened.remove(seq - lastSeq) == null) {
                closed.add(seq);
            }
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
