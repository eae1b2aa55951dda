package io.pgwarden.session;

import io.pgwarden.policy.Verdict;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's log of a session's statements: every refusal at INFO (what was refused and
 * why, never the statement's text, which may hold secrets or personal data), every outcome
 * at DEBUG.
 */
final class StatementLog implements StatementTracker.Outcomes {
    private static final Logger LOG = LoggerFactory.getLogger(StatementLog.class);

    private final String sessionId;

    StatementLog(String sessionId) {
        this.sessionId = sessionId;
    }

    @Override
    public java.util.concurrent.CompletableFuture<?> started(StatementTracker.TrackedStatement s) {
        if (s.verdict instanceof Verdict.Refused r) {
            LOG.info("session {}: refused {} ({}): {}", sessionId, r.summary().commands(), r.sqlState(), r.reason());
        }
        return null;
    }

    @Override
    public void completed(StatementTracker.TrackedStatement s) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("session {}: {} {} rows={} sqlstate={} {} µs", sessionId, s.verdict.summary().commands(),
                    s.skipped ? "skipped" : s.lastTag, s.rows, s.sqlState,
                    TimeUnit.NANOSECONDS.toMicros(s.finishedNanos - s.startedNanos));
        }
    }
}
