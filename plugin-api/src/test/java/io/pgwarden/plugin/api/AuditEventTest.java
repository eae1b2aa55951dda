package io.pgwarden.plugin.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuditEventTest {

    static AuditEvent.Builder statement() {
        return AuditEvent.builder(AuditEvent.Kind.STATEMENT)
                .eventId("store-7").sequence(7).time(Instant.parse("2026-11-25T10:00:00.123456Z"))
                .gatewayId("gw1").sessionId("s1").identity("report-bot").issuer("static-keys")
                .groups(List.of("agents")).clientAddress("10.0.0.7").database("app").upstream("app")
                .statement("SELECT 1").command("SELECT").relations(List.of("public.t"))
                .decision(AuditEvent.Decision.ALLOW).outcome(AuditEvent.Outcome.OK).rows(1L)
                .duration(Duration.ofNanos(1_234_567)).chainHash("ab");
    }

    @Test
    void jsonHasSnakeCaseNamesLeavesNullsOutAndGivesDurationInMicroseconds() {
        assertThat(statement().build().toJson()).isEqualTo("{\"event_id\":\"store-7\",\"sequence\":7,"
                + "\"time\":\"2026-11-25T10:00:00.123456Z\",\"kind\":\"STATEMENT\",\"gateway_id\":\"gw1\",\"session_id\":\"s1\","
                + "\"identity\":\"report-bot\",\"issuer\":\"static-keys\",\"groups\":[\"agents\"],\"client_address\":\"10.0.0.7\","
                + "\"database\":\"app\",\"upstream\":\"app\",\"statement\":\"SELECT 1\",\"command\":\"SELECT\","
                + "\"relations\":[\"public.t\"],\"decision\":\"ALLOW\",\"outcome\":\"OK\",\"rows\":1,\"duration_us\":1234,"
                + "\"chain_hash\":\"ab\"}");
    }

    @Test
    void jsonEscapesEverythingThatWouldBreakALine() {
        String nasty = "a\"b\\c\nd\re\tf\u0000g\u001fh\u2028i\u2029j\u007fk\uD800l\uDC00m😀";
        String json = statement().statement(nasty).build().toJson();
        assertThat(json).doesNotContain("\n").doesNotContain("\r").doesNotContain("\u2028")
                .contains("\"statement\":\"a\\\"b\\\\c\\nd\\re\\tf\\u0000g\\u001fh\\u2028i\\u2029j\\u007fk\\ud800l\\udc00m😀\"");
    }

    @Test
    void aStatementNeedsAnOutcomeAndSessionEventsLeaveStatementFieldsOut() {
        assertThatThrownBy(() -> statement().outcome(null).build()).isInstanceOf(IllegalArgumentException.class);
        AuditEvent start = AuditEvent.builder(AuditEvent.Kind.SESSION_START).eventId("x-1").sequence(1)
                .time(Instant.EPOCH).gatewayId("gw").sessionId("s").identity("a").build();
        assertThat(start.toJson()).doesNotContain("relations").doesNotContain("outcome").contains("\"groups\":[]");
        assertThat(start.outcomeKnown()).isTrue();
        assertThat(statement().outcome(AuditEvent.Outcome.UNKNOWN).build().outcomeKnown()).isFalse();
    }

    @Test
    void toBuilderCopiesEveryField() {
        AuditEvent e = statement().sqlstate("42501").fingerprint("fp").reason("r").build();
        assertThat(e.toBuilder().build()).isEqualTo(e);
        assertThat(e.toBuilder().statement("SELECT 2").build().statement()).isEqualTo("SELECT 2");
    }
}
