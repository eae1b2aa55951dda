package io.pgwarden.recording;

import java.time.Instant;
import java.util.List;

/** Who a recorded session belongs to, written into its recording's first (chained) event. */
public record SessionFacts(String id, String identity, String issuer, List<String> groups, String clientAddress,
                           String database, String upstream, String policy, Instant started) {
    public SessionFacts {
        groups = List.copyOf(groups);
        started = started.truncatedTo(java.time.temporal.ChronoUnit.MICROS); // as the store keeps it
    }
}
