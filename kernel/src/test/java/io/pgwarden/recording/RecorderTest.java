package io.pgwarden.recording;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgwarden.audit.AuditLog;
import io.pgwarden.audit.SessionContext;
import io.pgwarden.store.Store;
import io.pgwarden.wire.BackendMessages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recorder beneath the gateway, on a store of its own: events come back in order and
 * decoded, a changed, removed or re-attributed chunk is reported as a broken chain, an
 * overflowing buffer drops events with a gap in the recording and a record in the audit
 * trail, retention deletes old recordings, and sessions a stopped gateway left open get
 * their end at the next start.
 */
class RecorderTest {
    private static final String FILE_PASSWORD = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    @TempDir
    Path dir;

    private Store store() throws Exception {
        return Store.open("jdbc:h2:file:" + dir.resolve("store"), FILE_PASSWORD.toCharArray());
    }

    private static Recorder.Settings settings(int maxRows, long buffer) {
        return new Recorder.Settings(true, maxRows, Duration.ofDays(1), buffer, false, true, "gw-test");
    }

    private static SessionFacts facts(String id) {
        return new SessionFacts(id, "report-bot", "static-keys", List.of("analysts"), "127.0.0.1", "app", "app", "analytics",
                Instant.now().truncatedTo(ChronoUnit.MICROS));
    }

    /** One simple-protocol statement answered with {@code rows} rows of (id, email). */
    private static void select(SessionRecorder r, int rows) {
        r.statement("SELECT id, email FROM customers", "ALLOW", null, null);
        send(r, BackendMessages.ROW_DESCRIPTION, rowDescription("id", "email"));
        for (int i = 1; i <= rows; i++) {
            if (r.wants(BackendMessages.DATA_ROW, 20)) {
                send(r, BackendMessages.DATA_ROW, dataRow(Integer.toString(i), "***@example.com"));
            }
        }
        send(r, BackendMessages.COMMAND_COMPLETE, commandComplete("SELECT " + rows));
        send(r, BackendMessages.READY_FOR_QUERY, Unpooled.wrappedBuffer(new byte[] {'Z', 0, 0, 0, 5, 'I'}));
    }

    @Test
    void aSessionComesBackInOrderWithItsRowsDecodedAndItsChainIntact() throws Exception {
        try (Store store = store(); Recorder recorder = Recorder.open(store, settings(2, 1 << 20), null, Clock.systemUTC())) {
            SessionRecorder r = recorder.start(facts("s1"));
            select(r, 3);
            r.statement("TRUNCATE customers", "DENY", "TRUNCATE is not allowed", null);
            send(r, BackendMessages.ERROR_RESPONSE, error("42501", "permission denied by pgwarden policy"));
            r.fromClient((byte) 'd', 10);
            r.fromClient((byte) 'd', 12);
            r.fromClient((byte) 'c', 0);
            r.ended("client ended the session");

            Replay replay = recorder.read("s1").orElseThrow();
            assertThat(replay.intact()).isTrue();
            List<String> types = replay.events().stream().map(e -> e.path("type").asText()).toList();
            assertThat(types).containsExactly("session_start", "statement", "columns", "row", "row", "complete", "ready",
                    "statement", "error", "copy_in_data", "session_end");
            assertThat(replay.events()).extracting(e -> e.path("n").asLong()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
            ObjectNode row = replay.events().get(3);
            assertThat(row.path("values").get(1).asText()).isEqualTo("***@example.com");
            assertThat(replay.events().get(5).path("rows_not_recorded").asLong()).isEqualTo(1);
            assertThat(replay.events().get(7).path("decision").asText()).isEqualTo("DENY");
            assertThat(replay.events().get(8).path("sqlstate").asText()).isEqualTo("42501");
            assertThat(replay.events().get(9).path("bytes").asLong()).isEqualTo(22);
            assertThat(replay.session().statements()).isEqualTo(2);
            assertThat(replay.session().ended()).isNotNull();
            assertThat(replay.session().endReason()).isEqualTo("client ended the session");
            assertThat(recorder.list("report-bot", 10)).extracting(RecordedSession::id).containsExactly("s1");
            assertThat(recorder.list("someone-else", 10)).isEmpty();
        }
    }

    @Test
    void aChangedRemovedOrReattributedChunkIsReportedAsABrokenChain() throws Exception {
        try (Store store = store(); Recorder recorder = Recorder.open(store, settings(100, 1 << 20), null, Clock.systemUTC())) {
            for (String id : List.of("changed", "cut", "renamed")) {
                SessionRecorder r = recorder.start(facts(id));
                select(r, 1);
                recorder.list(null, 10); // stores what was queued: the first chunk
                select(r, 1);
                r.ended("client ended the session");
            }
            assertThat(recorder.read("changed").orElseThrow().intact()).isTrue();
            try (Connection c = store.connect(); Statement s = c.createStatement()) {
                // Another valid chunk's payload in place of this one's: decodes, but does not hash.
                s.execute("UPDATE recording_chunk SET payload = (SELECT payload FROM recording_chunk WHERE session_id = 'cut' "
                        + "AND chunk_no = 1) WHERE session_id = 'changed' AND chunk_no = 1");
                s.execute("DELETE FROM recording_chunk WHERE session_id = 'cut' AND chunk_no = 1");
                s.execute("UPDATE recording_session SET identity_name = 'innocent-bot' WHERE session_id = 'renamed'");
            }
            Replay changed = recorder.read("changed").orElseThrow();
            assertThat(changed.intact()).isFalse();
            assertThat(changed.brokenAtChunk()).isEqualTo(1);
            assertThat(changed.events()).isEmpty();
            Replay cut = recorder.read("cut").orElseThrow();
            assertThat(cut.intact()).isFalse();
            assertThat(cut.problem()).contains("chunks were removed");
            Replay renamed = recorder.read("renamed").orElseThrow();
            assertThat(renamed.intact()).isFalse();
            assertThat(renamed.problem()).contains("identity");
        }
    }

    @Test
    void whenTheStoreFallsBehindAFullBufferDropsEventsWithAGapAndAnAuditRecord() throws Exception {
        try (Store store = store();
             AuditLog audit = AuditLog.open(store, AuditLog.Settings.defaults("gw-test", false, false), List.of(), Clock.systemUTC());
             Recorder recorder = Recorder.open(store, settings(100, 4096), audit, Clock.systemUTC())) {
            audit.sessionStarted(new SessionContext("slow", "report-bot", "static-keys", List.of(), "127.0.0.1", "app", "app"))
                    .get();
            SessionRecorder r = recorder.start(facts("slow"));
            select(r, 1);
            recorder.list(null, 10);
            try (Connection c = store.connect(); Statement s = c.createStatement()) {
                s.execute("ALTER TABLE recording_chunk RENAME TO recording_chunk_away");
                r.statement("SELECT big", "ALLOW", null, null);
                send(r, BackendMessages.NOTICE_RESPONSE, notice("x".repeat(5000))); // more than the whole buffer: takes it all
                send(r, BackendMessages.READY_FOR_QUERY, Unpooled.wrappedBuffer(new byte[] {'Z', 0, 0, 0, 5, 'I'}));
                select(r, 1); // no room: dropped
                s.execute("ALTER TABLE recording_chunk_away RENAME TO recording_chunk");
            }
            r.ended("client ended the session");

            Replay replay = recorder.read("slow").orElseThrow();
            assertThat(replay.intact()).isTrue();
            JsonNode gap = replay.events().stream().filter(e -> e.path("type").asText().equals("gap")).findFirst().orElseThrow();
            assertThat(gap.path("dropped_events").asLong()).isEqualTo(5); // statement, columns, row, complete, ready
            assertThat(replay.events().getLast().path("type").asText()).isEqualTo("session_end");
            assertThat(replay.session().dropped()).isEqualTo(5);
            assertThat(audit.list("report-bot", null, 100)).anySatisfy(e ->
                    assertThat(e.event().decision()).isEqualTo(Recorder.DROPPED_DECISION));
        }
    }

    @Test
    void withOnOverflowBlockASessionWaitsForTheStoreAndNothingIsDropped() throws Exception {
        Recorder.Settings blocking = new Recorder.Settings(true, 100, Duration.ofDays(1), 4096, true, true, "gw-test");
        try (Store store = store(); Recorder recorder = Recorder.open(store, blocking, null, Clock.systemUTC())) {
            SessionRecorder r = recorder.start(facts("patient"));
            select(r, 1);
            recorder.list(null, 10);
            java.util.concurrent.CompletableFuture<Void> waited;
            try (Connection c = store.connect(); Statement s = c.createStatement()) {
                s.execute("ALTER TABLE recording_chunk RENAME TO recording_chunk_away");
                r.statement("SELECT big", "ALLOW", null, null);
                send(r, BackendMessages.NOTICE_RESPONSE, notice("x".repeat(5000))); // more than the whole buffer
                send(r, BackendMessages.READY_FOR_QUERY, Unpooled.wrappedBuffer(new byte[] {'Z', 0, 0, 0, 5, 'I'}));
                // The next batch finds no room: its session waits (here on a thread of its own) until the store works again.
                waited = java.util.concurrent.CompletableFuture.runAsync(() -> select(r, 1), runnable -> Thread.ofPlatform().start(runnable));
                s.execute("ALTER TABLE recording_chunk_away RENAME TO recording_chunk");
            }
            waited.get(30, java.util.concurrent.TimeUnit.SECONDS);
            r.ended("client ended the session");
            Replay replay = recorder.read("patient").orElseThrow();
            assertThat(replay.intact()).isTrue();
            assertThat(replay.events()).noneMatch(e -> e.path("type").asText().equals("gap"));
            assertThat(replay.events().stream().filter(e -> e.path("type").asText().equals("statement"))).hasSize(3);
            assertThat(replay.session().dropped()).isZero();
        }
    }

    @Test
    void recordingsOfSessionsThatEndedBeforeTheRetentionAreDeleted() throws Exception {
        Clock twoDaysLater = Clock.offset(Clock.systemUTC(), Duration.ofDays(2));
        try (Store store = store(); Recorder recorder = Recorder.open(store, settings(100, 1 << 20), null, twoDaysLater)) {
            SessionRecorder old = recorder.start(facts("old"));
            select(old, 1);
            old.ended("client ended the session");
            SessionRecorder running = recorder.start(facts("running"));
            select(running, 1);
            assertThat(recorder.list(null, 10)).hasSize(2);
            recorder.deleteExpiredNow();
            assertThat(recorder.list(null, 10)).extracting(RecordedSession::id).containsExactly("running");
            assertThat(recorder.read("old")).isEmpty();
        }
    }

    @Test
    void aSessionLeftOpenByAStoppedGatewayGetsItsEndAtTheNextStart() throws Exception {
        try (Store store = store()) {
            try (Recorder recorder = Recorder.open(store, settings(100, 1 << 20), null, Clock.systemUTC())) {
                select(recorder.start(facts("open")), 2);
            }
            try (Recorder recorder = Recorder.open(store, settings(100, 1 << 20), null, Clock.systemUTC())) {
                Replay replay = recorder.read("open").orElseThrow();
                assertThat(replay.intact()).isTrue();
                assertThat(replay.events().getLast().path("reason").asText()).isEqualTo(Recorder.GATEWAY_STOPPED);
                assertThat(replay.session().ended()).isNotNull();
                assertThat(replay.session().statements()).isEqualTo(1);
            }
        }
    }

    // ---- backend messages as the relay would hand them over ----

    /** As the relay does: the message is the relay's, released after the call. */
    private static void send(SessionRecorder r, byte type, ByteBuf message) {
        try {
            r.sent(type, message);
        } finally {
            message.release();
        }
    }

    private static ByteBuf rowDescription(String... names) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('T').writeInt(0).writeShort(names.length);
        for (String n : names) {
            b.writeBytes(n.getBytes(StandardCharsets.UTF_8)).writeByte(0);
            b.writeInt(0).writeShort(0).writeInt(25).writeShort(-1).writeInt(-1).writeShort(0);
        }
        return b.setInt(1, b.writerIndex() - 1);
    }

    private static ByteBuf dataRow(String... values) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('D').writeInt(0).writeShort(values.length);
        for (String v : values) {
            byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
            b.writeInt(bytes.length).writeBytes(bytes);
        }
        return b.setInt(1, b.writerIndex() - 1);
    }

    private static ByteBuf commandComplete(String tag) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('C').writeInt(0).writeBytes(tag.getBytes(StandardCharsets.UTF_8)).writeByte(0);
        return b.setInt(1, b.writerIndex() - 1);
    }

    private static ByteBuf error(String sqlstate, String message) {
        return BackendMessages.errorOrNotice(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, BackendMessages.ERROR_RESPONSE,
                new java.util.LinkedHashMap<>(java.util.Map.of('S', "ERROR", 'V', "ERROR", 'C', sqlstate, 'M', message)));
    }

    private static ByteBuf notice(String message) {
        return BackendMessages.errorOrNotice(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, BackendMessages.NOTICE_RESPONSE,
                new java.util.LinkedHashMap<>(java.util.Map.of('S', "NOTICE", 'V', "NOTICE", 'C', "00000", 'M', message)));
    }

}
