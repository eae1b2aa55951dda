package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.pgwarden.policy.StatementGate;
import io.pgwarden.policy.Verdict;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.FrontendMessages;
import io.pgwarden.wire.MessageReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tracker without a network: the frames it forwards for allowed and refused statements,
 * and how it matches the upstream's answers to them (the answers are written here as a
 * PostgreSQL server sends them).
 */
class StatementTrackerTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** Refuses every statement that mentions "forbidden". */
    private static final StatementGate GATE = new StatementGate() {
        @Override
        public Verdict query(String sql) {
            return decide(sql);
        }

        @Override
        public Verdict parse(String name, String sql) {
            return decide(sql);
        }

        @Override
        public long generation() {
            return 0;
        }

        @Override
        public String withoutLiterals(String sql) {
            return sql;
        }

        private Verdict decide(String sql) {
            Verdict.Summary summary = new Verdict.Summary(List.of("SELECT"), List.of(), List.of(), null);
            return sql.contains("forbidden")
                    ? new Verdict.Refused(summary, "42501", "permission denied by pgwarden policy \"p\"", null, "ask", "test")
                    : new Verdict.Allowed(summary);
        }
    };

    private final List<String> refused = new ArrayList<>();
    private final List<StatementTracker.TrackedStatement> completed = new ArrayList<>();
    private final StatementTracker tracker = new StatementTracker(GATE, new StatementTracker.Outcomes() {
        @Override
        public java.util.concurrent.CompletableFuture<?> started(StatementTracker.TrackedStatement statement) {
            if (statement.verdict instanceof Verdict.Refused) {
                refused.add(statement.text);
            }
            return null;
        }

        @Override
        public void completed(StatementTracker.TrackedStatement statement) {
            completed.add(statement);
        }
    });

    private static ByteBuf upstream(char type, String body) {
        ByteBuf b = Unpooled.buffer().writeByte(type).writeInt(0);
        b.writeCharSequence(body, java.nio.charset.StandardCharsets.UTF_8);
        return b.setInt(1, b.readableBytes() - 1);
    }

    private static ByteBuf syntaxError(String near) {
        return BackendMessages.errorOrNotice(ALLOC, BackendMessages.ERROR_RESPONSE, "ERROR", "42601",
                "syntax error at or near \"" + near + "\"", null, null);
    }

    private ByteBuf answer(char type, String body) {
        ByteBuf message = upstream(type, body);
        return tracker.upstreamMessage((byte) type, message, ALLOC);
    }

    @Test
    void anAllowedQueryIsForwardedAsItIsAndItsRowsAreCounted() {
        ByteBuf frame = FrontendMessages.query(ALLOC, "SELECT 1; SELECT 2");
        assertThat(tracker.query(frame, ALLOC)).isSameAs(frame);
        assertThat(answer('C', "SELECT 1\0")).isNull();
        assertThat(answer('C', "SELECT 1\0")).isNull();
        assertThat(completed).isEmpty();
        answer('Z', "I");
        assertThat(completed).singleElement().satisfies(s -> {
            assertThat(s.rows).isEqualTo(2);
            assertThat(s.sqlState).isNull();
            assertThat(s.text).isEqualTo("SELECT 1; SELECT 2");
        });
    }

    @Test
    void aRefusedQueryIsReplacedByAMarkerAndTheUpstreamsSyntaxErrorByTheRefusal() {
        ByteBuf forwarded = tracker.query(FrontendMessages.query(ALLOC, "SELECT * FROM forbidden"), ALLOC);
        String marker = MessageReader.queryText(forwarded);
        assertThat(marker).startsWith(StatementTracker.MARKER_PREFIX).doesNotContain("forbidden");
        assertThat(refused).containsExactly("SELECT * FROM forbidden");

        ByteBuf replacement = tracker.upstreamMessage(BackendMessages.ERROR_RESPONSE, syntaxError(marker), ALLOC);
        assertThat(replacement).isNotNull();
        Map<Character, String> fields = MessageReader.errorFields(replacement);
        assertThat(fields).containsEntry('C', "42501").containsEntry('M', "permission denied by pgwarden policy \"p\"")
                .containsEntry('H', "ask");
        answer('Z', "I");
        assertThat(completed).singleElement().satisfies(s -> assertThat(s.sqlState).isEqualTo("42501"));
    }

    @Test
    void aRefusedParseSkippedAfterAnEarlierErrorIsForgottenAtTheEndOfItsBatch() {
        ByteBuf bind = Unpooled.buffer().writeByte('B').writeInt(0).writeByte(0).writeByte(0);
        tracker.parse(FrontendMessages.parse(ALLOC, "", "INSERT INTO t VALUES (1)"), ALLOC);
        tracker.bind(bind);
        tracker.execute(Unpooled.buffer().writeByte('E').writeInt(9).writeByte(0).writeInt(0), ALLOC);
        ByteBuf refusedParse = tracker.parse(FrontendMessages.parse(ALLOC, "s2", "DELETE FROM forbidden"), ALLOC);
        String marker = MessageReader.parse(refusedParse).sql();
        tracker.sync();

        // The INSERT fails; PostgreSQL skips the refused Parse (it never sees the marker).
        ByteBuf insertError = BackendMessages.errorOrNotice(ALLOC, BackendMessages.ERROR_RESPONSE, "ERROR", "23505",
                "duplicate key value", null, null);
        assertThat(tracker.upstreamMessage(BackendMessages.ERROR_RESPONSE, insertError, ALLOC)).isNull();
        answer('Z', "I");
        assertThat(completed).extracting(s -> s.text + " " + s.sqlState)
                .containsExactly("DELETE FROM forbidden 42501", "INSERT INTO t VALUES (1) 23505");

        // Later, an error that merely quotes the old marker is the client's own: left alone.
        tracker.query(FrontendMessages.query(ALLOC, "SELECT '" + marker + "'::int"), ALLOC);
        assertThat(tracker.upstreamMessage(BackendMessages.ERROR_RESPONSE, syntaxError(marker), ALLOC)).isNull();
    }

    @Test
    void executesAfterAFailedOneInTheSameBatchAreRecordedAsSkipped() {
        for (String sql : new String[] {"SELECT 1", "SELECT 2"}) {
            tracker.parse(FrontendMessages.parse(ALLOC, "", sql), ALLOC);
            tracker.bind(Unpooled.buffer().writeByte('B').writeInt(0).writeByte(0).writeByte(0));
            tracker.execute(Unpooled.buffer().writeByte('E').writeInt(9).writeByte(0).writeInt(0), ALLOC);
        }
        tracker.sync();
        tracker.upstreamMessage(BackendMessages.ERROR_RESPONSE, BackendMessages.errorOrNotice(ALLOC,
                BackendMessages.ERROR_RESPONSE, "ERROR", "57014", "canceling statement", null, null), ALLOC);
        answer('Z', "I");
        assertThat(completed).hasSize(2);
        assertThat(completed.get(0).sqlState).isEqualTo("57014");
        assertThat(completed.get(1).skipped).isTrue();
        assertThat(completed.get(1).text).isEqualTo("SELECT 2");
    }

    @Test
    void theFunctionCallMessageIsRefused() {
        ByteBuf forwarded = tracker.functionCall(Unpooled.buffer().writeByte('F').writeInt(4), ALLOC);
        assertThat(MessageReader.type(forwarded)).isEqualTo(FrontendMessages.QUERY);
        String marker = MessageReader.queryText(forwarded);
        ByteBuf replacement = tracker.upstreamMessage(BackendMessages.ERROR_RESPONSE, syntaxError(marker), ALLOC);
        assertThat(MessageReader.errorFields(replacement)).containsEntry('C', "42501");
    }

    @Test
    void aStatementWhoseRecordFailsIsReplacedByAMarkerAnsweredWithTheAuditError() {
        java.util.concurrent.CompletableFuture<Long> record = new java.util.concurrent.CompletableFuture<>();
        StatementTracker audited = new StatementTracker(GATE, new StatementTracker.Outcomes() {
            @Override
            public java.util.concurrent.CompletableFuture<?> started(StatementTracker.TrackedStatement statement) {
                return record;
            }

            @Override
            public void completed(StatementTracker.TrackedStatement statement) {
                completed.add(statement);
            }
        });
        ByteBuf frame = FrontendMessages.query(ALLOC, "SELECT 1");
        ByteBuf forward = audited.query(frame, ALLOC);
        assertThat(audited.takePendingRecord()).as("the session must wait for it").isSameAs(record);
        assertThat(audited.takePendingRecord()).isNull();

        record.completeExceptionally(new IllegalStateException("store down"));
        ByteBuf marker = audited.unrecorded(forward, ALLOC, ClientError.auditUnavailable("s1"));
        String token = MessageReader.queryText(marker);
        assertThat(token).startsWith(StatementTracker.MARKER_PREFIX);
        ByteBuf replacement = audited.upstreamMessage(BackendMessages.ERROR_RESPONSE, syntaxError(token), ALLOC);
        assertThat(MessageReader.errorFields(replacement)).containsEntry('C', "58000");
        audited.upstreamMessage(BackendMessages.READY_FOR_QUERY, upstream('Z', "I"), ALLOC);
        assertThat(completed).as("an unrecorded statement has no outcome to record").isEmpty();
    }
}
