package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditEvent;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the sinks from the store (an outbox): one virtual thread per sink reads the complete
 * events after the sink's persisted position, in the order they were completed, hands them
 * to {@link io.pgwarden.plugin.api.AuditSink#deliver}, and moves the position only when that
 * returned. A failing sink gets the same batch again after 1 s, 2 s, 4 s, … up to the
 * backoff's cap, for as long as it fails: an outage delays events, it loses none.
 *
 * <p>At least once: the position is written after the sink acknowledged a batch, so a
 * gateway killed in between offers that batch again after its restart. Nothing older is
 * resent.
 */
public final class AuditOutbox {
    private static final Logger LOG = LoggerFactory.getLogger(AuditOutbox.class);
    /** How often an idle worker looks for events even without being woken (a missed wake-up costs this much). */
    private static final long IDLE_POLL_MS = 1_000;
    /** While a sink keeps failing, a reminder is logged this often. */
    private static final long REMIND_NANOS = TimeUnit.MINUTES.toNanos(5);

    /** Retry delays: {@code initial}, doubled after each failure, never above {@code max}. */
    public record Backoff(Duration initial, Duration max) {
        public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1));

        public Backoff {
            Objects.requireNonNull(initial, "initial");
            Objects.requireNonNull(max, "max");
            if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("backoff: 0 < initial <= max");
            }
        }

        Duration next(Duration current) {
            Duration doubled = current.multipliedBy(2);
            return doubled.compareTo(max) > 0 ? max : doubled;
        }
    }

    private final AuditReader reader;
    private final List<Worker> workers = new ArrayList<>();
    private final Backoff backoff;
    private final Clock clock;
    private final CountDownLatch stopping = new CountDownLatch(1);

    AuditOutbox(AuditReader reader, List<NamedSink> sinks, Backoff backoff, Clock clock) {
        this.reader = reader;
        this.backoff = backoff;
        this.clock = clock;
        for (NamedSink sink : sinks) {
            workers.add(new Worker(sink));
        }
    }

    void start() {
        for (Worker w : workers) {
            w.thread = Thread.ofVirtual().name("pgwarden-audit-sink-" + w.sink.name()).start(w);
        }
    }

    /** New records are committed: idle workers look now instead of at their next poll. */
    void wake() {
        for (Worker w : workers) {
            if (w.signal.availablePermits() == 0) {
                w.signal.release();
            }
        }
    }

    /**
     * Lets each worker deliver what is committed while its sink accepts, for up to
     * {@code grace}; then stops them and closes the sinks. A sink that fails stops at once:
     * its events wait in the store for the next start.
     */
    void close(Duration grace) {
        stopping.countDown();
        wake();
        long deadline = System.nanoTime() + grace.toNanos();
        for (Worker w : workers) {
            if (w.thread == null) {
                continue;
            }
            try {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    w.thread.join(Duration.ofNanos(left));
                }
                if (w.thread.isAlive()) {
                    LOG.warn("audit sink {}: still delivering at shutdown; the rest goes out after the next start",
                            w.sink.instance());
                    w.thread.interrupt();
                    w.thread.join(Duration.ofSeconds(2));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Worker w : workers) {
            try {
                w.sink.sink().close();
            } catch (RuntimeException e) {
                LOG.warn("audit sink {} did not close cleanly", w.sink.instance(), e);
            }
        }
    }

    private boolean isStopping() {
        return stopping.getCount() == 0;
    }

    private final class Worker implements Runnable {
        final NamedSink sink;
        final Semaphore signal = new Semaphore(0);
        Thread thread;

        Worker(NamedSink sink) {
            this.sink = sink;
        }

        @Override
        public void run() {
            try {
                loop();
            } catch (InterruptedException e) {
                // shutdown
            } catch (RuntimeException e) {
                LOG.error("audit sink {}: delivery stopped by an unexpected error; restart the gateway to resume",
                        sink.instance(), e);
            }
        }

        private void loop() throws InterruptedException {
            int batchSize = Math.max(1, Math.min(10_000, sink.sink().maxBatchSize()));
            long cursor = readCursor();
            if (cursor < 0) {
                return;
            }
            List<AuditReader.Completed> batch = null;
            Duration delay = backoff.initial();
            int failures = 0;
            long lastReminder = 0;
            while (true) {
                if (batch == null) {
                    try {
                        batch = reader.completedAfter(cursor, batchSize);
                    } catch (SQLException | RuntimeException e) {
                        LOG.warn("audit sink {}: cannot read the store: {}", sink.instance(), e.getMessage());
                        if (stopping.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
                            return;
                        }
                        continue;
                    }
                    if (batch.isEmpty()) {
                        batch = null;
                        if (isStopping()) {
                            return;
                        }
                        if (signal.tryAcquire(IDLE_POLL_MS, TimeUnit.MILLISECONDS)) {
                            signal.drainPermits();
                        }
                        continue;
                    }
                }
                List<AuditEvent> events = batch.stream().map(AuditReader.Completed::event).toList();
                try {
                    sink.sink().deliver(events);
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception | LinkageError e) {
                    failures++;
                    long now = System.nanoTime();
                    if (failures == 1) {
                        LOG.warn("audit sink {}: delivery failed, retrying with backoff (events wait in the store): {}",
                                sink.instance(), describe(e));
                        lastReminder = now;
                    } else if (now - lastReminder > REMIND_NANOS) {
                        LOG.warn("audit sink {}: still failing after {} attempts: {}", sink.instance(), failures, describe(e));
                        lastReminder = now;
                    }
                    if (isStopping() || stopping.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
                        return;
                    }
                    delay = backoff.next(delay);
                    continue;
                }
                long through = batch.getLast().completionSeq();
                try {
                    reader.advance(sink.name(), through, clock.instant());
                } catch (SQLException | RuntimeException e) {
                    // Delivered but not noted: after a restart this batch goes out once more.
                    LOG.warn("audit sink {}: cannot store the delivery position: {}", sink.instance(), e.getMessage());
                }
                cursor = through;
                batch = null;
                if (failures > 0) {
                    LOG.info("audit sink {}: delivering again after {} failed attempt(s)", sink.instance(), failures);
                    failures = 0;
                }
                delay = backoff.initial();
            }
        }

        private long readCursor() throws InterruptedException {
            Duration delay = backoff.initial();
            while (true) {
                try {
                    return reader.cursor(sink.name());
                } catch (SQLException e) {
                    LOG.warn("audit sink {}: cannot read its delivery position: {}", sink.instance(), e.getMessage());
                    if (stopping.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
                        return -1;
                    }
                    delay = backoff.next(delay);
                }
            }
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
