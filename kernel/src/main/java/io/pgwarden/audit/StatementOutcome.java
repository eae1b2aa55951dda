package io.pgwarden.audit;

import io.pgwarden.plugin.api.AuditEvent.Outcome;
import java.time.Duration;
import java.util.Objects;

/**
 * What became of a statement, recorded by {@link AuditLog#recordOutcome}. A statement the
 * gateway refused has an {@link Outcome#ERROR} outcome with the SQLSTATE the client got.
 *
 * @param outcome  {@link Outcome#OK} or {@link Outcome#ERROR} ({@link Outcome#UNKNOWN} is
 *                 the audit log's own, for statements whose outcome never came)
 * @param rows     rows returned or affected, when known
 * @param sqlstate the error's SQLSTATE, for {@link Outcome#ERROR}
 * @param duration from the statement's arrival to its completion, when measured
 */
public record StatementOutcome(Outcome outcome, Long rows, String sqlstate, Duration duration) {
    public StatementOutcome {
        Objects.requireNonNull(outcome, "outcome");
        if (outcome == Outcome.UNKNOWN) {
            throw new IllegalArgumentException("an unknown outcome is recorded by the audit log itself");
        }
        if (sqlstate != null && !sqlstate.matches("[0-9A-Z]{5}")) {
            throw new IllegalArgumentException("a SQLSTATE is five digits or capital letters: " + sqlstate);
        }
    }

    public static StatementOutcome ok(Long rows, Duration duration) {
        return new StatementOutcome(Outcome.OK, rows, null, duration);
    }

    public static StatementOutcome error(String sqlstate, Duration duration) {
        return new StatementOutcome(Outcome.ERROR, null, sqlstate, duration);
    }
}
