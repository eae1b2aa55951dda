package io.pgwarden.session;

import io.pgwarden.audit.AuditLog;
import io.pgwarden.audit.SessionContext;
import io.pgwarden.audit.StatementIntent;
import io.pgwarden.audit.StatementOutcome;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.policy.StatementGate;
import io.pgwarden.policy.Verdict;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's statements in the audit trail (DESIGN §9) and in the operator's log: the
 * intent of each statement is recorded before it is forwarded (the tracker holds the session
 * until it is durable), its outcome after; refusals are logged at INFO with the reason
 * (never the text, which may hold secrets or personal data), outcomes at DEBUG.
 */
final class StatementAudit implements StatementTracker.Outcomes {
    private static final Logger LOG = LoggerFactory.getLogger(StatementAudit.class);

    private final String sessionId;
    private final AuditLog audit;
    private final StatementGate gate;

    StatementAudit(String sessionId, AuditLog audit, StatementGate gate) {
        this.sessionId = sessionId;
        this.audit = audit;
        this.gate = gate;
    }

    /** Records the session's start; its statements' records follow it in the trail. */
    CompletableFuture<Long> sessionStarted(SessionContext context) {
        return audit.sessionStarted(context);
    }

    void sessionEnded(String reason) {
        audit.sessionEnded(sessionId, reason).exceptionally(e -> {
            LOG.warn("session {}: its end could not be recorded in the audit trail: {}", sessionId, e.toString());
            return null;
        });
    }

    /** A statement's text as the audit trail stores it (and approvers see it). */
    String auditText(String raw) {
        return audit.statementText(raw, () -> gate.withoutLiterals(raw));
    }

    @Override
    public CompletableFuture<?> started(StatementTracker.TrackedStatement s) {
        Verdict.Summary summary = s.verdict.summary();
        String decision = AuditEvent.Decision.ALLOW;
        String reason = s.approval;
        if (s.verdict instanceof Verdict.Refused r) {
            LOG.info("session {}: refused {} ({}): {}", sessionId, summary.commands(), r.sqlState(), r.reason());
            decision = AuditEvent.Decision.DENY;
            reason = r.reason();
        }
        String text = auditText(s.text);
        StatementIntent intent = new StatementIntent(text, summary.fingerprint(),
                summary.commands().isEmpty() ? null : String.join(",", summary.commands()), summary.relations(), decision, reason);
        return audit.recordIntent(sessionId, intent).thenApply(sequence -> {
            s.auditSequence = sequence;
            return sequence;
        });
    }

    @Override
    public void completed(StatementTracker.TrackedStatement s) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("session {}: {} {} rows={} sqlstate={} {} µs", sessionId, s.verdict.summary().commands(),
                    s.skipped ? "skipped" : s.lastTag, s.rows, s.sqlState, (s.finishedNanos - s.startedNanos) / 1000);
        }
        if (s.auditSequence < 0) {
            return; // its intent was never recorded, so it did not run
        }
        Duration took = Duration.ofNanos(s.finishedNanos - s.startedNanos);
        StatementOutcome outcome = s.sqlState != null ? StatementOutcome.error(s.sqlState, took)
                : s.skipped ? StatementOutcome.error(null, took)
                : StatementOutcome.ok(s.rows >= 0 ? s.rows : null, took);
        audit.recordOutcome(s.auditSequence, outcome).exceptionally(e -> {
            LOG.warn("session {}: an outcome could not be recorded in the audit trail: {}", sessionId, e.toString());
            return null;
        });
    }
}
