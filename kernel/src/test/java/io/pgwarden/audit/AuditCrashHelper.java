package io.pgwarden.audit;

import io.pgwarden.store.Store;
import java.time.Duration;

/**
 * Runs in a child JVM for {@link AuditCrashRecoveryTest}: records one finished and one
 * unfinished statement, says READY, and waits to be killed with SIGKILL. With a second
 * argument {@code hold-flush} it first stops the flusher from storing them (it holds the
 * journal's lock), so that they are only in the journal when the process dies.
 */
public final class AuditCrashHelper {
    private AuditCrashHelper() {
    }

    public static void main(String[] args) throws Exception {
        Store store = AuditFixture.store(args[0]);
        AuditLog log = AuditFixture.open(store);
        AuditFixture.await(log.sessionStarted(AuditFixture.session("s1", "crash-test")));
        long done = AuditFixture.await(log.recordIntent("s1", StatementIntent.allowed("SELECT 1")));
        AuditFixture.await(log.recordOutcome(done, StatementOutcome.ok(1L, Duration.ofMillis(1))));
        long running = AuditFixture.await(log.recordIntent("s1", StatementIntent.allowed("DELETE FROM big_table")));
        if (args.length > 1 && args[1].equals("hold-flush")) {
            log.journalLock.lock();
            if (log.storedThrough() >= running) {
                throw new IllegalStateException("the flusher stored the records before the test could hold it");
            }
        }
        System.out.println("READY " + running);
        System.out.flush();
        Thread.sleep(Duration.ofMinutes(5));
    }
}
