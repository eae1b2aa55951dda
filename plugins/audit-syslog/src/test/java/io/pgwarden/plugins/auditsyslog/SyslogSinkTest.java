package io.pgwarden.plugins.auditsyslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditSink;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SyslogSinkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    /** RFC 5424 HEADER SP STRUCTURED-DATA SP, as this sink writes it. */
    private static final Pattern HEADER = Pattern.compile(
            "<(\\d{1,3})>1 (\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z) (\\S{1,255}) (\\S{1,48}) - (\\S{1,32}) - ");

    static AuditEvent event(long seq, String decision, AuditEvent.Outcome outcome, String statement) {
        return AuditEvent.builder(AuditEvent.Kind.STATEMENT).eventId("store-" + seq).sequence(seq)
                .time(Instant.parse("2026-11-25T10:00:00.123456789Z")).gatewayId("gw").sessionId("s1")
                .identity("report-bot").statement(statement).decision(decision).outcome(outcome).build();
    }

    private static AuditSink sink(Map<String, Object> entry) throws PluginConfigException {
        Map<String, Object> values = new LinkedHashMap<>(entry);
        values.put("type", "syslog");
        values.putIfAbsent("hostname", "gw1");
        return new SyslogSinkFactory().create(new PluginConfig("audit.sinks[0]", values),
                new PluginContext("audit.sinks[0]", Clock.systemUTC(), Path.of(".")));
    }

    /** Splits a message into header fields and the JSON after the BOM. */
    private record Parsed(int pri, String timestamp, String host, String app, String msgId, JsonNode json) {
        static Parsed of(byte[] message) throws IOException {
            String text = new String(message, StandardCharsets.UTF_8);
            Matcher m = HEADER.matcher(text);
            assertThat(m.lookingAt()).as("RFC 5424 header in %s", text).isTrue();
            byte[] rest = Arrays.copyOfRange(message, m.group().getBytes(StandardCharsets.UTF_8).length, message.length);
            assertThat(Arrays.copyOf(rest, 3)).as("the MSG starts with a UTF-8 BOM").isEqualTo(BOM);
            JsonNode json = JSON.readTree(Arrays.copyOfRange(rest, 3, rest.length));
            return new Parsed(Integer.parseInt(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5), json);
        }
    }

    @Test
    void theHeaderFollowsRfc5424AndTheSeverityFollowsTheDecision() throws Exception {
        SyslogFormat format = new SyslogFormat(16, "gw 1", "pgwarden", true);
        Parsed allowed = Parsed.of(format.message(event(1, "ALLOW", AuditEvent.Outcome.OK, "SELECT 1"), 0));
        assertThat(allowed.pri()).isEqualTo(16 * 8 + 6);
        assertThat(allowed.timestamp()).isEqualTo("2026-11-25T10:00:00.123456Z");
        assertThat(allowed.host()).as("spaces are not allowed in HOSTNAME").isEqualTo("gw_1");
        assertThat(allowed.app()).isEqualTo("pgwarden");
        assertThat(allowed.msgId()).isEqualTo("STATEMENT");
        assertThat(allowed.json().get("event_id").asText()).isEqualTo("store-1");
        assertThat(Parsed.of(format.message(event(2, "DENY", AuditEvent.Outcome.ERROR, "DROP TABLE t"), 0)).pri())
                .isEqualTo(16 * 8 + 4);
        assertThat(Parsed.of(format.message(event(3, "ALLOW", AuditEvent.Outcome.ERROR, "SELECT x"), 0)).pri())
                .isEqualTo(16 * 8 + 5);
    }

    @Test
    void octetCountingPutsTheByteLengthFirst() {
        byte[] message = "<134>1 - - - - - - é".getBytes(StandardCharsets.UTF_8);
        assertThat(new String(SyslogFormat.frame(message), StandardCharsets.UTF_8))
                .isEqualTo(message.length + " <134>1 - - - - - - é");
    }

    @Test
    void eventsArriveAsDatagramsOverUdp() throws Exception {
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             AuditSink sink = sink(Map.of("host", "127.0.0.1", "port", receiver.getLocalPort(), "facility", "auth"))) {
            receiver.setSoTimeout(30_000);
            sink.deliver(List.of(event(1, "ALLOW", AuditEvent.Outcome.OK, "SELECT 1"),
                    event(2, "ALLOW", AuditEvent.Outcome.OK, "SELECT 'ü'")));
            List<Parsed> got = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
                receiver.receive(p);
                got.add(Parsed.of(Arrays.copyOf(p.getData(), p.getLength())));
            }
            assertThat(got).extracting(p -> p.json().get("sequence").asLong()).containsExactly(1L, 2L);
            assertThat(got.get(1).json().get("statement").asText()).isEqualTo("SELECT 'ü'");
            assertThat(got.getFirst().pri()).isEqualTo(4 * 8 + 6);
        }
    }

    @Test
    void aLongStatementIsShortenedToFitADatagramAndTheJsonStaysWhole() throws Exception {
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             AuditSink sink = sink(Map.of("host", "127.0.0.1", "port", receiver.getLocalPort(), "max_message_size", 480))) {
            receiver.setSoTimeout(30_000);
            sink.deliver(List.of(event(1, "ALLOW", AuditEvent.Outcome.OK, "SELECT '" + "é".repeat(5000) + "'")));
            DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
            receiver.receive(p);
            assertThat(p.getLength()).isLessThanOrEqualTo(480);
            Parsed parsed = Parsed.of(Arrays.copyOf(p.getData(), p.getLength()));
            assertThat(parsed.json().get("statement").asText()).startsWith("SELECT 'éé").endsWith("…[shortened for syslog]");
        }
    }

    @Test
    void eventsArriveOctetCountedOverOneTcpConnection() throws Exception {
        BlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread reader = Thread.ofVirtual().start(() -> readFrames(server, frames));
            try (AuditSink sink = sink(Map.of("host", "127.0.0.1", "port", server.getLocalPort(), "protocol", "tcp"))) {
                sink.deliver(List.of(event(1, "ALLOW", AuditEvent.Outcome.OK, "SELECT 1"),
                        event(2, "ALLOW", AuditEvent.Outcome.OK, "SELECT 2\nFROM t")));
                sink.deliver(List.of(event(3, "DENY", AuditEvent.Outcome.ERROR, "x".repeat(100_000))));
                List<Parsed> got = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    byte[] frame = frames.poll(30, TimeUnit.SECONDS);
                    assertThat(frame).as("frame %d", i + 1).isNotNull();
                    got.add(Parsed.of(frame));
                }
                assertThat(got).extracting(p -> p.json().get("sequence").asLong()).containsExactly(1L, 2L, 3L);
                assertThat(got.get(1).json().get("statement").asText()).isEqualTo("SELECT 2\nFROM t");
                assertThat(got.get(2).json().get("statement").asText()).as("tcp frames any length").hasSize(100_000);
            }
            reader.join(30_000);
            assertThat(frames).as("one connection for both batches").isEmpty();
        }
    }

    /** Accepts one connection and splits it into RFC 6587 octet-counted frames until it closes. */
    private static void readFrames(ServerSocket server, BlockingQueue<byte[]> frames) {
        try (Socket s = server.accept(); DataInputStream in = new DataInputStream(s.getInputStream())) {
            while (true) {
                ByteArrayOutputStream length = new ByteArrayOutputStream();
                int b;
                while ((b = in.read()) != ' ') {
                    if (b < 0) {
                        return;
                    }
                    length.write(b);
                }
                byte[] frame = new byte[Integer.parseInt(length.toString(StandardCharsets.US_ASCII))];
                in.readFully(frame);
                frames.add(frame);
            }
        } catch (IOException e) {
            // the test is over
        }
    }

    @Test
    void aRefusedTcpConnectionFailsTheBatchForTheOutboxToRetry() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (AuditSink sink = sink(Map.of("host", "127.0.0.1", "port", port, "protocol", "tcp"))) {
            assertThatThrownBy(() -> sink.deliver(List.of(event(1, "ALLOW", AuditEvent.Outcome.OK, "SELECT 1"))))
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void configurationErrorsNameTheKey() {
        assertThatThrownBy(() -> sink(Map.of())).hasMessage("audit.sinks[0].host: is required");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "protocol", "tls"))).hasMessage("audit.sinks[0].protocol: must be udp or tcp");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "port", 70000))).hasMessageStartingWith("audit.sinks[0].port:");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "facility", "local9"))).hasMessageStartingWith("audit.sinks[0].facility: must be one of kern");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "facility", 24))).hasMessageStartingWith("audit.sinks[0].facility:");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "max_message_size", 100))).hasMessageStartingWith("audit.sinks[0].max_message_size:");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "protocol", "tcp", "max_message_size", 1000)))
                .hasMessageContaining("applies to udp only");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "app_name", "pg warden"))).hasMessageStartingWith("audit.sinks[0].app_name:");
        assertThatThrownBy(() -> sink(Map.of("host", "h", "timeout", "soon"))).hasMessageStartingWith("audit.sinks[0].timeout:");
    }

    @Test
    void facilitiesAreReadByNameOrNumber() throws Exception {
        assertThat(SyslogFormat.FACILITIES.indexOf("local7")).isEqualTo(23);
        assertThat(SyslogFormat.FACILITIES.indexOf("auth")).isEqualTo(4);
        sink(Map.of("host", "h", "facility", 3)).close();
        sink(Map.of("host", "h", "facility", "LOCAL3")).close();
    }

}
