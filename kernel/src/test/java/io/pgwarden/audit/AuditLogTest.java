package io.pgwarden.audit;

import static io.pgwarden.audit.AuditFixture.await;
import static io.pgwarden.audit.AuditFixture.session;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditEvent.Outcome;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {

    @TempDir
    Path dir;

    @Test
    void aStatementIsListedWithItsOutcomeAndTheChainVerifies() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "report-bot")));
            long intent = await(log.recordIntent("s1", new StatementIntent("SELECT * FROM t WHERE id = 1", "fp1", "SELECT",
                    List.of("public.t"), AuditEvent.Decision.ALLOW, null)));
            await(log.recordOutcome(intent, StatementOutcome.ok(3L, Duration.ofMillis(12))));
            await(log.sessionEnded("s1", "client disconnected"));

            List<AuditEntry> entries = log.list(null, null, 100);
            assertThat(entries).extracting(e -> e.event().kind())
                    .containsExactly(AuditEvent.Kind.SESSION_START, AuditEvent.Kind.STATEMENT, AuditEvent.Kind.SESSION_END);
            AuditEvent statement = entries.get(1).event();
            assertThat(statement.sequence()).isEqualTo(intent);
            assertThat(statement.eventId()).isEqualTo(store.id() + "-" + intent);
            assertThat(statement.identity()).isEqualTo("report-bot");
            assertThat(statement.groups()).containsExactly("agents", "testers");
            assertThat(statement.statement()).isEqualTo("SELECT * FROM t WHERE id = 1");
            assertThat(statement.relations()).containsExactly("public.t");
            assertThat(statement.outcome()).isEqualTo(Outcome.OK);
            assertThat(statement.rows()).isEqualTo(3L);
            assertThat(statement.duration()).isEqualTo(Duration.ofMillis(12));
            assertThat(entries.get(1).pending()).isFalse();
            assertThat(entries.get(2).event().reason()).isEqualTo("client disconnected");
            // start, intent, outcome, end
            assertThat(log.verify()).isEqualTo(VerifyResult.ok(4, 4));
        }
    }

    @Test
    void manyConcurrentIntentsAreAllDurableInFewerCommitsThanRecords() throws Exception {
        int threads = 16;
        int perThread = 250;
        List<Long> intents = java.util.Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> outcomes = java.util.Collections.synchronizedList(new ArrayList<>());
        long commits;
        long records;
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            for (int t = 0; t < threads; t++) {
                await(log.sessionStarted(session("s" + t, "agent-" + t)));
            }
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int t = 0; t < threads; t++) {
                    String sessionId = "s" + t;
                    pool.submit(() -> {
                        // Like a session: wait for the intent to be durable, then "forward".
                        for (int i = 0; i < perThread; i++) {
                            long seq = await(log.recordIntent(sessionId, StatementIntent.allowed("SELECT " + i)));
                            intents.add(seq);
                            outcomes.add(log.recordOutcome(seq, StatementOutcome.ok(1L, Duration.ofMillis(1))));
                        }
                        return null;
                    });
                }
            }
            for (CompletableFuture<Void> f : outcomes) {
                await(f);
            }
            commits = log.commits();
            records = log.recordsWritten();
        }
        assertThat(intents).hasSize(threads * perThread).doesNotHaveDuplicates();
        assertThat(records).isEqualTo(threads + 2L * threads * perThread);
        assertThat(commits).as("group commit: %d records in %d commits", records, commits).isLessThan(records);
        // Durable: a new store object on the same file sees every statement with its outcome.
        try (Store store = AuditFixture.store(AuditFixture.url(dir))) {
            AuditReader reader = new AuditReader(store);
            List<AuditEntry> all = reader.list(null, null, 100_000);
            assertThat(all.stream().filter(e -> e.event().kind() == AuditEvent.Kind.STATEMENT))
                    .hasSize(threads * perThread)
                    .allSatisfy(e -> assertThat(e.event().outcome()).isEqualTo(Outcome.OK));
            assertThat(reader.verify().ok()).isTrue();
        }
    }

    @Test
    void verifyWhileTheWriterWritesSeesAConsistentSnapshot() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 2_000; i++) {
                    log.recordIntent("s1", StatementIntent.allowed("SELECT " + i))
                            .thenCompose(seq -> log.recordOutcome(seq, StatementOutcome.ok(1L, null)));
                }
            });
            int checks = 0;
            while (!writing.isDone() || checks < 3) {
                VerifyResult r = log.verify();
                assertThat(r.ok()).as("%s", r).isTrue();
                checks++;
            }
            await(writing);
        }
    }

    @Test
    void aSessionThatEndsFirstLeavesItsOpenIntentsUnknownAndRefusesLateOutcomes() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            long open = await(log.recordIntent("s1", StatementIntent.allowed("SELECT pg_sleep(60)")));
            await(log.sessionEnded("s1", "client disconnected"));
            assertThatThrownBy(() -> await(log.recordOutcome(open, StatementOutcome.ok(1L, null))))
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("not an open intent");
            assertThatThrownBy(() -> await(log.recordIntent("s1", StatementIntent.allowed("SELECT 1"))))
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("not open");
            assertThatThrownBy(() -> await(log.recordIntent("never-started", StatementIntent.allowed("SELECT 1"))))
                    .hasCauseInstanceOf(IllegalStateException.class);
            AuditEntry statement = log.list("a", null, 10).get(1);
            assertThat(statement.event().outcome()).isEqualTo(Outcome.UNKNOWN);
            assertThat(statement.event().outcomeKnown()).isFalse();
            assertThat(statement.pending()).isFalse();
            assertThat(statement.outcomeReason()).isEqualTo(AuditLog.SESSION_ENDED_FIRST);
            assertThat(log.verify().ok()).isTrue();
        }
    }

    @Test
    void aStatementStillRunningIsListedAsPending() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            await(log.recordIntent("s1", StatementIntent.allowed("SELECT pg_sleep(60)")));
            AuditEntry running = log.list(null, null, 10).getLast();
            assertThat(running.pending()).isTrue();
            assertThat(running.event().outcome()).isEqualTo(Outcome.UNKNOWN);
        }
    }

    @Test
    void aCleanCloseEndsOpenSessionsAndTheirStatementsAsStopped() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir))) {
            try (AuditLog log = AuditFixture.open(store)) {
                await(log.sessionStarted(session("s1", "a")));
                await(log.recordIntent("s1", StatementIntent.allowed("SELECT pg_sleep(60)")));
            }
            List<AuditEntry> entries = new AuditReader(store).list(null, null, 10);
            assertThat(entries).extracting(e -> e.event().kind())
                    .containsExactly(AuditEvent.Kind.SESSION_START, AuditEvent.Kind.STATEMENT, AuditEvent.Kind.SESSION_END);
            assertThat(entries.get(1).outcomeReason()).isEqualTo(AuditLog.STOPPED);
            assertThat(entries.get(2).event().reason()).isEqualTo(AuditLog.SESSION_STOPPED);
            try (AuditLog again = AuditFixture.open(store)) {
                assertThat(again.recordsWritten()).as("nothing left to recover").isZero();
                assertThat(again.verify().ok()).isTrue();
            }
        }
    }

    @Test
    void whenTheStoreFailsIntentsFailAndTheChainContinuesIntactOnceItWorksAgain() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            try (Connection c = store.connect(); Statement s = c.createStatement()) {
                s.execute("ALTER TABLE audit_record RENAME TO audit_record_away");
                // Journaled, so recorded; the store's failure shows at the flush that follows.
                long journaled = await(log.recordIntent("s1", StatementIntent.allowed("SELECT 'journaled'")));
                assertThat(journaled).isEqualTo(2);
                assertThatThrownBy(() -> log.list(null, null, 10)).isInstanceOf(StoreException.class)
                        .hasMessageContaining("safe in the journal");
                assertThatThrownBy(() -> await(log.recordIntent("s1", StatementIntent.allowed("DELETE FROM t"))))
                        .isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(AuditUnavailableException.class);
                s.execute("ALTER TABLE audit_record_away RENAME TO audit_record");
            }
            // The flusher retries with backoff; once it stored the journaled record, intents are taken again.
            long seq = -1;
            long deadline = System.nanoTime() + AuditFixture.WAIT.toNanos();
            while (seq < 0) {
                try {
                    seq = await(log.recordIntent("s1", StatementIntent.allowed("SELECT 1")));
                } catch (ExecutionException refused) {
                    assertThat(refused).hasCauseInstanceOf(AuditUnavailableException.class);
                    assertThat(System.nanoTime()).as("the store is written again").isLessThan(deadline);
                    Thread.sleep(20);
                }
            }
            assertThat(seq).as("the refused intent took no sequence number").isEqualTo(3);
            await(log.recordOutcome(seq, StatementOutcome.ok(1L, null)));
            assertThat(log.verify().ok()).isTrue();
            assertThat(log.list(null, null, 10)).extracting(e -> e.event().statement())
                    .containsOnly(null, "SELECT 'journaled'", "SELECT 1");
        }
    }

    @Test
    void aFullQueueRefusesAtOnceInsteadOfBlocking() throws Exception {
        AuditLog.Settings small = new AuditLog.Settings("gw-test", false, 2, false, AuditFixture.settings().delivery());
        try (Store store = AuditFixture.store(AuditFixture.url(dir));
             AuditLog log = AuditLog.open(store, small, List.of(), Clock.systemUTC())) {
            await(log.sessionStarted(session("s1", "a")));
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            // Holds the journal's lock, so the writer waits in its first write.
            log.journalLock.lock();
            try {
                for (int i = 0; i < 20; i++) {
                    futures.add(log.recordIntent("s1", StatementIntent.allowed("SELECT " + i)));
                }
                assertThat(futures).anySatisfy(f -> {
                    assertThat(f).isCompletedExceptionally(); // the others wait for the writer: no join on them here
                    assertThatThrownBy(f::join).hasCauseInstanceOf(AuditUnavailableException.class)
                            .hasMessageContaining("queue is full");
                });
            } finally {
                log.journalLock.unlock();
            }
            long accepted = futures.stream().filter(f -> {
                try {
                    await(f);
                    return true;
                } catch (Exception e) {
                    return false;
                }
            }).count();
            assertThat(accepted).isBetween(1L, 19L);
            assertThat(log.verify().ok()).isTrue();
        }
    }

    @Test
    void aCallbackThatBlocksDoesNotStallTheWriter() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            // A careless caller chains blocking work without an executor. The journal's lock is
            // held while it does, so that the future is not complete yet (else the callback would
            // run here, on the test's thread).
            CompletableFuture<Void> blocked;
            log.journalLock.lock();
            try {
                blocked = log.recordIntent("s1", StatementIntent.allowed("SELECT 1"))
                        .thenAccept(seq -> {
                            try {
                                release.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        });
            } finally {
                log.journalLock.unlock();
            }
            try {
                assertThat(await(log.recordIntent("s1", StatementIntent.allowed("SELECT 2")))).isEqualTo(3);
                assertThat(blocked).isNotDone();
            } finally {
                release.countDown();
            }
            await(blocked);
        }
    }

    @Test
    void listFiltersByIdentityAndTimeAndKeepsTheNewest() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        try (Store store = AuditFixture.store(AuditFixture.url(dir));
             AuditLog log = AuditLog.open(store, AuditFixture.settings(), List.of(), clock)) {
            await(log.sessionStarted(session("s1", "alice")));
            await(log.sessionStarted(session("s2", "bob")));
            for (int i = 0; i < 5; i++) {
                clock.set(Instant.parse("2026-01-0" + (i + 2) + "T00:00:00Z"));
                await(log.recordIntent("s1", StatementIntent.allowed("SELECT " + i)));
                await(log.recordIntent("s2", StatementIntent.allowed("SELECT 'bob'")));
            }
            assertThat(log.list("alice", null, 100)).hasSize(6);
            assertThat(log.list("alice", Instant.parse("2026-01-04T00:00:00Z"), 100))
                    .extracting(e -> e.event().statement()).containsExactly("SELECT 2", "SELECT 3", "SELECT 4");
            assertThat(log.list("alice", null, 2)).as("the newest two, oldest first")
                    .extracting(e -> e.event().statement()).containsExactly("SELECT 3", "SELECT 4");
            assertThat(log.list("carol", null, 10)).isEmpty();
        }
    }

    @Test
    void redactionChoosesTheNormalizedTextOnlyWhenOn() throws Exception {
        AuditLog.Settings redacting = new AuditLog.Settings("gw-test", true, 100, false, AuditFixture.settings().delivery());
        try (Store store = AuditFixture.store(AuditFixture.url(dir));
             AuditLog log = AuditLog.open(store, redacting, List.of(), Clock.systemUTC())) {
            assertThat(log.redactsLiterals()).isTrue();
            assertThat(log.statementText("SELECT 'secret'", () -> "SELECT $1")).isEqualTo("SELECT $1");
        }
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            assertThat(log.statementText("SELECT 'secret'", () -> {
                throw new AssertionError("not computed when redaction is off");
            })).isEqualTo("SELECT 'secret'");
        }
    }

    @Test
    void aHugeStatementIsStoredCutWithItsLengthAndDigest() throws Exception {
        String huge = "SELECT '" + "x".repeat(AuditLog.MAX_STATEMENT_CHARS + 10) + "'";
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            await(log.recordIntent("s1", StatementIntent.allowed(huge)));
            String stored = log.list(null, null, 10).getLast().event().statement();
            assertThat(stored).startsWith("SELECT 'xxx").contains("[truncated: " + huge.length() + " characters in all, SHA-256");
            assertThat(stored.length()).isLessThan(AuditLog.MAX_STATEMENT_CHARS + 200);
            assertThat(log.verify().ok()).isTrue();
        }
    }

    /** A clock the test moves. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
