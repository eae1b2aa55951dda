package io.pgwarden.recording;

import java.time.Instant;
import java.util.List;

/**
 * A row of the recordings list.
 *
 * @param ended      null while the session runs (or when the gateway stopped before its end was recorded)
 * @param statements statements recorded so far
 * @param dropped    events not recorded because the writer fell behind ({@code recording.on_overflow: drop})
 */
public record RecordedSession(String id, String identity, String issuer, List<String> groups, String clientAddress,
                              String database, String upstream, String policy, Instant started, Instant ended,
                              String endReason, long statements, long events, long dropped) {
}
