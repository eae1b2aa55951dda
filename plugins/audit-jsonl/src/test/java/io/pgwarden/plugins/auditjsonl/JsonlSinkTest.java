package io.pgwarden.plugins.auditjsonl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditSink;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlSinkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-25T23:59:58Z"));

    static AuditEvent event(long seq, String statement) {
        return AuditEvent.builder(AuditEvent.Kind.STATEMENT).eventId("store-" + seq).sequence(seq)
                .time(Instant.parse("2026-11-25T10:00:00Z")).gatewayId("gw").sessionId("s1").identity("report-bot")
                .statement(statement).decision(AuditEvent.Decision.ALLOW).outcome(AuditEvent.Outcome.OK).build();
    }

    private AuditSink sink(Map<String, Object> entry) throws PluginConfigException {
        Map<String, Object> values = new LinkedHashMap<>(entry);
        values.put("type", "jsonl");
        return new JsonlSinkFactory().create(new PluginConfig("audit.sinks[0]", values),
                new PluginContext("audit.sinks[0]", clock, dir));
    }

    private static List<JsonNode> lines(Path file) throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            nodes.add(JSON.readTree(line));
        }
        return nodes;
    }

    @Test
    void eachEventIsOneJsonLineInTheDaysFileAndANewDayStartsANewFile() throws Exception {
        try (AuditSink sink = sink(Map.of("path", "data/audit.jsonl"))) {
            sink.deliver(List.of(event(1, "SELECT 1"), event(2, "SELECT 'two\nlines'")));
            clock.set(Instant.parse("2026-11-26T00:00:01Z"));
            sink.deliver(List.of(event(3, "SELECT 3")));
        }
        Path day1 = dir.resolve("data/audit-2026-11-25.jsonl");
        Path day2 = dir.resolve("data/audit-2026-11-26.jsonl");
        assertThat(lines(day1)).extracting(n -> n.get("event_id").asText()).containsExactly("store-1", "store-2");
        assertThat(lines(day1).get(1).get("statement").asText()).isEqualTo("SELECT 'two\nlines'");
        assertThat(lines(day2)).extracting(n -> n.get("sequence").asLong()).containsExactly(3L);
        assertThat(dir.resolve("data/audit.jsonl")).doesNotExist();
    }

    @Test
    void theDayIsTheConfiguredZones() throws Exception {
        clock.set(Instant.parse("2026-11-25T23:30:00Z")); // already the 26th in Berlin
        try (AuditSink sink = sink(Map.of("path", "audit.jsonl", "time_zone", "Europe/Berlin"))) {
            sink.deliver(List.of(event(1, "SELECT 1")));
        }
        assertThat(dir.resolve("audit-2026-11-26.jsonl")).exists();
    }

    @Test
    void withoutRotationEverythingGoesToThePathAndAppends() throws Exception {
        try (AuditSink sink = sink(Map.of("path", "audit.log", "rotate", "none"))) {
            sink.deliver(List.of(event(1, "SELECT 1")));
        }
        clock.set(Instant.parse("2027-01-01T00:00:00Z"));
        try (AuditSink sink = sink(Map.of("path", "audit.log", "rotate", "none"))) {
            sink.deliver(List.of(event(2, "SELECT 2")));
        }
        assertThat(lines(dir.resolve("audit.log"))).hasSize(2);
    }

    @Test
    void aLineTornByACrashIsEndedBeforeTheNextWrite() throws Exception {
        Path file = dir.resolve("audit-2026-11-25.jsonl");
        Files.writeString(file, event(1, "SELECT 1").toJson() + "\n{\"event_id\":\"store-2\",\"seq");
        try (AuditSink sink = sink(Map.of("path", "audit.jsonl"))) {
            sink.deliver(List.of(event(2, "SELECT 2")));
        }
        List<String> raw = Files.readAllLines(file);
        assertThat(raw).hasSize(3);
        assertThat(raw.get(1)).isEqualTo("{\"event_id\":\"store-2\",\"seq");
        assertThat(JSON.readTree(raw.get(2)).get("event_id").asText()).isEqualTo("store-2");
    }

    @Test
    void aFileThatCannotBeWrittenFailsTheBatch() throws Exception {
        Files.writeString(dir.resolve("blocker"), "a file where a folder should be");
        try (AuditSink sink = sink(Map.of("path", "blocker/audit.jsonl"))) {
            assertThatThrownBy(() -> sink.deliver(List.of(event(1, "SELECT 1")))).isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void configurationErrorsNameTheKey() {
        assertThatThrownBy(() -> sink(Map.of())).hasMessage("audit.sinks[0].path: is required");
        assertThatThrownBy(() -> sink(Map.of("path", "a", "rotate", "hourly"))).hasMessage("audit.sinks[0].rotate: must be daily or none");
        assertThatThrownBy(() -> sink(Map.of("path", "a", "time_zone", "Mars/Olympus"))).hasMessageStartingWith("audit.sinks[0].time_zone:");
        assertThatThrownBy(() -> sink(Map.of("path", "a", "pth", "b"))).hasMessageStartingWith("audit.sinks[0].pth: unknown key");
        assertThatThrownBy(() -> sink(Map.of("path", "."))).hasMessageContaining("is a directory");
    }

    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        private volatile Instant now;
        private final ZoneId zone;

        MovableClock(Instant now) {
            this(now, ZoneOffset.UTC);
        }

        private MovableClock(Instant now, ZoneId zone) {
            this.now = now;
            this.zone = zone;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public ZoneId getZone() {
            return zone;
        }

        @Override
        public Clock withZone(ZoneId z) {
            MovableClock parent = this;
            return new Clock() {
                @Override
                public ZoneId getZone() {
                    return z;
                }

                @Override
                public Clock withZone(ZoneId other) {
                    return parent.withZone(other);
                }

                @Override
                public Instant instant() {
                    return parent.now;
                }
            };
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
