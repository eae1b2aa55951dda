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
    public void refused(String text, Verdict.Refused verdict) {
        LOG.info("session {}: refused {} ({}): {}", sessionId, verdict.summary().commands(), verdict.sqlState(), verdict.reason());
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
