package io.pgwarden.audit;

import static io.pgwarden.audit.AuditFixture.await;
import static io.pgwarden.audit.AuditFixture.session;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.pgwarden.plugin.PluginHost;
import io.pgwarden.store.Store;
import io.pgwarden.testing.TestGateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox feeding the real webhook plugin (loaded by PF4J from target/dist/plugins) and
 * a real HTTP receiver that is down for a while.
 */
class AuditOutboxTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private HttpServer receiver;
    private PluginHost plugins;
    /** Requests answered 503 before the receiver comes up. */
    private final AtomicInteger outage = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    /** Every event the receiver accepted, in arrival order, as (event_id, kind). */
    private final List<JsonNode> accepted = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/audit", exchange -> {
            try (exchange) {
                JsonNode body = JSON.readTree(exchange.getRequestBody());
                if (outage.getAndDecrement() > 0) {
                    refused.incrementAndGet();
                    exchange.sendResponseHeaders(503, -1);
                    return;
                }
                synchronized (accepted) {
                    body.get("events").forEach(accepted::add);
                }
                exchange.sendResponseHeaders(200, -1);
            }
        });
        receiver.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        receiver.start();
        plugins = PluginHost.start(TestGateway.PLUGINS);
    }

    @AfterEach
    void stop() {
        receiver.stop(0);
        plugins.close();
    }

    private AuditLog open(Store store) throws Exception {
        List<NamedSink> sinks = plugins.auditSinks(List.of(Map.of("type", "webhook", "name", "siem",
                "url", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/audit", "max_batch", 7)),
                Clock.systemUTC(), dir);
        return AuditLog.open(store, AuditFixture.settings(), sinks, Clock.systemUTC());
    }

    private List<JsonNode> accepted() {
        synchronized (accepted) {
            return List.copyOf(accepted);
        }
    }

    /** Polls what the receiver accepted until {@code done} holds; fails after 30 s. */
    private List<JsonNode> awaitAccepted(Predicate<List<JsonNode>> done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            List<JsonNode> now = accepted();
            if (done.test(now)) {
                return now;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the receiver did not get what was expected within 30 s; it has " + accepted().size());
    }

    private static List<String> ids(List<JsonNode> events) {
        return events.stream().map(e -> e.get("event_id").asText()).toList();
    }

    @Test
    void aReceiverOutageDelaysEventsButLosesNoneAndDuplicatesNone() throws Exception {
        outage.set(4);
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = open(store)) {
            await(log.sessionStarted(session("s1", "report-bot")));
            for (int i = 0; i < 40; i++) {
                long seq = await(log.recordIntent("s1", StatementIntent.allowed("SELECT " + i)));
                await(log.recordOutcome(seq, StatementOutcome.ok((long) i, null)));
            }
            await(log.sessionEnded("s1", "client disconnected"));
            List<JsonNode> got = awaitAccepted(events -> events.size() >= 42);
            assertThat(refused.get()).as("the receiver refused while it was down").isEqualTo(4);
            assertThat(ids(got)).hasSize(42).doesNotHaveDuplicates();
            assertThat(got.getFirst().get("kind").asText()).isEqualTo("SESSION_START");
            assertThat(got.getLast().get("kind").asText()).isEqualTo("SESSION_END");
            assertThat(got.subList(1, 41)).extracting(e -> e.get("statement").asText())
                    .isEqualTo(java.util.stream.IntStream.range(0, 40).mapToObj(i -> "SELECT " + i).toList());
            assertThat(got.subList(1, 41)).allSatisfy(e -> assertThat(e.get("outcome").asText()).isEqualTo("OK"));
        }
    }

    @Test
    void aRestartDoesNotResendWhatWasDelivered() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir))) {
            List<String> before;
            try (AuditLog log = open(store)) {
                await(log.sessionStarted(session("s1", "a")));
                long seq = await(log.recordIntent("s1", StatementIntent.allowed("SELECT 1")));
                await(log.recordOutcome(seq, StatementOutcome.ok(1L, null)));
                await(log.sessionEnded("s1", "done"));
                before = ids(awaitAccepted(events -> events.size() >= 3));
            }
            try (AuditLog log = open(store)) {
                await(log.sessionStarted(session("s2", "b")));
                await(log.sessionEnded("s2", "done"));
                List<JsonNode> all = awaitAccepted(events -> events.size() >= 5);
                assertThat(ids(all)).startsWith(before.toArray(String[]::new)).hasSize(5).doesNotHaveDuplicates();
                assertThat(all.subList(3, 5)).allSatisfy(e -> assertThat(e.get("session_id").asText()).isEqualTo("s2"));
            }
        }
    }

    @Test
    void aStatementIsDeliveredWhenItsOutcomeIsInWithoutHoldingBackLaterOnes() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            await(log.sessionStarted(session("s2", "b")));
            long slow = await(log.recordIntent("s1", StatementIntent.allowed("SELECT pg_sleep(600)")));
            long fast = await(log.recordIntent("s2", StatementIntent.allowed("SELECT 1")));
            await(log.recordOutcome(fast, StatementOutcome.ok(1L, null)));
            List<JsonNode> got = awaitAccepted(events -> events.stream().anyMatch(e -> e.get("sequence").asLong() == fast));
            assertThat(got).noneMatch(e -> e.get("sequence").asLong() == slow);
            await(log.recordOutcome(slow, StatementOutcome.error("57014", null)));
            JsonNode late = awaitAccepted(events -> events.stream().anyMatch(e -> e.get("sequence").asLong() == slow))
                    .stream().filter(e -> e.get("sequence").asLong() == slow).findFirst().orElseThrow();
            assertThat(late.get("outcome").asText()).isEqualTo("ERROR");
            assertThat(late.get("sqlstate").asText()).isEqualTo("57014");
            assertThat(late.get("event_id").asText()).isEqualTo(store.id() + "-" + slow);
        }
    }
}
