package io.pgwarden.recording;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A session's recording as read back: its events in order when its chain is intact; when
 * not, no events at all (a broken recording is reported, never played) and what is wrong.
 *
 * @param brokenAtChunk the first chunk that does not verify (or is missing); -1 when intact
 */
public record Replay(RecordedSession session, boolean intact, long brokenAtChunk, String problem, List<ObjectNode> events) {

    static Replay broken(RecordedSession session, long chunk, String problem) {
        return new Replay(session, false, chunk, problem, List.of());
    }
}
