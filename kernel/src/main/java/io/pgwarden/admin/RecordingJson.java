package io.pgwarden.admin;

import io.pgwarden.recording.RecordedSession;
import io.pgwarden.recording.Replay;
import java.util.LinkedHashMap;
import java.util.Map;

/** Recorded sessions and recordings as the admin API (and the CLI with a stopped gateway) show them. */
public final class RecordingJson {
    private RecordingJson() {
    }

    /** A recorded session as a row of {@code sessions list}: the live rows' fields, and its end and statement count. */
    public static Map<String, Object> session(RecordedSession s) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", s.id());
        row.put("identity", s.identity());
        row.put("issuer", s.issuer());
        row.put("groups", s.groups());
        row.put("client", s.clientAddress());
        row.put("user", null);
        row.put("database", s.database());
        row.put("policy", s.policy());
        row.put("upstream", s.upstream());
        row.put("upstream_pid", null);
        row.put("started", s.started().toString());
        row.put("expires", null);
        row.put("live", false);
        row.put("ended", s.ended() == null ? null : s.ended().toString());
        row.put("end_reason", s.endReason());
        row.put("statements", s.statements());
        row.put("dropped_events", s.dropped());
        row.put("recorded", true);
        return row;
    }

    /** A recording: its session, whether its chain is intact, and its events (none when broken). */
    public static Map<String, Object> replay(Replay replay) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("session", session(replay.session()));
        body.put("intact", replay.intact());
        if (!replay.intact()) {
            body.put("error", "the recording of session " + replay.session().id() + " is broken at chunk " + replay.brokenAtChunk()
                    + ": " + replay.problem());
            body.put("broken_at_chunk", replay.brokenAtChunk());
        }
        body.put("events", replay.events());
        return body;
    }
}
