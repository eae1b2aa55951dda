package io.pgwarden.audit;

import static io.pgwarden.audit.AuditFixture.await;
import static io.pgwarden.audit.AuditFixture.session;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.store.Store;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints what group commit achieves on this machine; asserts nothing about speed. Each of
 * 64 "sessions" waits for its intent to be durable before the next, as a session does
 * before forwarding, so throughput comes only from many sessions sharing a commit.
 */
class AuditThroughputTest {

    @TempDir
    Path dir;

    @Test
    void printsStatementsPerSecondWithAndWithoutAForcedSync() throws Exception {
        for (boolean sync : new boolean[] {true, false}) {
            measure(sync, 64, 200);
            measure(sync, 1, 500);
        }
    }

    private void measure(boolean sync, int sessions, int statementsEach) throws Exception {
        AuditLog.Settings settings = new AuditLog.Settings("gw-bench", false, 20_000, sync, AuditFixture.settings().delivery());
        Path d = dir.resolve((sync ? "sync" : "nosync") + sessions);
        try (Store store = AuditFixture.store(AuditFixture.url(d));
             AuditLog log = AuditLog.open(store, settings, List.of(), Clock.systemUTC())) {
            for (int s = 0; s < sessions; s++) {
                await(log.sessionStarted(session("s" + s, "agent-" + s)));
            }
            long commitsBefore = log.commits();
            long recordsBefore = log.recordsWritten();
            long start = System.nanoTime();
            List<CompletableFuture<Void>> last = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int s = 0; s < sessions; s++) {
                    String id = "s" + s;
                    pool.submit(() -> {
                        CompletableFuture<Void> outcome = null;
                        for (int i = 0; i < statementsEach; i++) {
                            long seq = await(log.recordIntent(id, StatementIntent.allowed("SELECT * FROM t WHERE id = " + i)));
                            outcome = log.recordOutcome(seq, StatementOutcome.ok(1L, Duration.ofMillis(1)));
                        }
                        synchronized (last) {
                            last.add(outcome);
                        }
                        return null;
                    });
                }
            }
            for (CompletableFuture<Void> f : last) {
                await(f);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long statements = (long) sessions * statementsEach;
            long commits = log.commits() - commitsBefore;
            long records = log.recordsWritten() - recordsBefore;
            System.out.printf("audit group commit (%s): %d statements (intent + outcome) from %d sessions in %.2f s = %.0f statements/s, "
                            + "%d records in %d commits (%.1f records per commit)%n",
                    sync ? "CHECKPOINT SYNC after each commit" : "commit only, no fsync", statements, sessions, seconds,
                    statements / seconds, records, commits, (double) records / commits);
            assertThat(records).isEqualTo(2 * statements);
        }
    }
}
