package io.pgwarden.recording;

import io.pgwarden.store.Migration;
import java.util.List;

/**
 * The recording tables (component {@code recording} in {@code schema_version}).
 *
 * <ul>
 *   <li>{@code recording_chunk}: a session's events in order, as gzip'd event frames
 *       ({@link EventFrames}), a chunk a row; each chunk's hash chains it to the previous chunk of the same session.</li>
 *   <li>{@code recording_session}: one row per session, for listing: the facts of its first
 *       event, its end, counts, and the hash of its last chunk (so that cutting chunks off the
 *       end is detected).</li>
 * </ul>
 */
final class RecordingSchema {
    static final String COMPONENT = "recording";

    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, "session recordings: sessions and their chained chunks of events", List.of(
                    """
                    CREATE TABLE IF NOT EXISTS recording_session (
                        session_id     VARCHAR(64) PRIMARY KEY,
                        gateway_id     VARCHAR(255) NOT NULL,
                        identity_name  VARCHAR(1000) NOT NULL,
                        issuer         VARCHAR(1000),
                        groups_json    VARCHAR(100000) NOT NULL,
                        client_address VARCHAR(255),
                        database_name  VARCHAR(1000),
                        upstream       VARCHAR(1000),
                        policy         VARCHAR(1000),
                        started_at     TIMESTAMP(6) WITH TIME ZONE NOT NULL,
                        ended_at       TIMESTAMP(6) WITH TIME ZONE,
                        end_reason     VARCHAR(10000),
                        statements     BIGINT NOT NULL,
                        events         BIGINT NOT NULL,
                        dropped        BIGINT NOT NULL,
                        chunks         INT NOT NULL,
                        head_hash      BINARY(32) NOT NULL
                    )""",
                    "CREATE INDEX IF NOT EXISTS recording_session_started ON recording_session (started_at)",
                    "CREATE INDEX IF NOT EXISTS recording_session_ended ON recording_session (ended_at)",
                    """
                    CREATE TABLE IF NOT EXISTS recording_chunk (
                        session_id  VARCHAR(64) NOT NULL,
                        chunk_no    INT NOT NULL,
                        first_event BIGINT NOT NULL,
                        event_count INT NOT NULL,
                        payload     VARBINARY(67108864) NOT NULL,
                        hash        BINARY(32) NOT NULL,
                        PRIMARY KEY (session_id, chunk_no)
                    )""")));

    private RecordingSchema() {
    }
}
