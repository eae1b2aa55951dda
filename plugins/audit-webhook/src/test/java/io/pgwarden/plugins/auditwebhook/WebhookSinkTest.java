package io.pgwarden.plugins.auditwebhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditSink;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpTimeoutException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WebhookSinkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpServer server;
    private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean hang;

    record Request(Headers headers, JsonNode body) {
    }

    @BeforeEach
    void startReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/ingest", exchange -> {
            try (exchange) {
                JsonNode body = JSON.readTree(exchange.getRequestBody());
                if (hang) {
                    release.await(30, TimeUnit.SECONDS);
                }
                requests.add(new Request(exchange.getRequestHeaders(), body));
                exchange.sendResponseHeaders(status.get(), -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    @AfterEach
    void stopReceiver() {
        release.countDown();
        server.stop(0);
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/ingest";
    }

    static AuditEvent event(long seq) {
        return AuditEvent.builder(AuditEvent.Kind.STATEMENT).eventId("store-" + seq).sequence(seq)
                .time(Instant.parse("2026-11-25T10:00:00Z")).gatewayId("gw").sessionId("s1").identity("report-bot")
                .statement("SELECT " + seq).decision(AuditEvent.Decision.ALLOW).outcome(AuditEvent.Outcome.OK).build();
    }

    private static AuditSink sink(Map<String, Object> entry, Map<String, String> env) throws PluginConfigException {
        Map<String, Object> values = new LinkedHashMap<>(entry);
        values.put("type", "webhook");
        return new WebhookSinkFactory().create(new PluginConfig("audit.sinks[0]", values), env::get);
    }

    @Test
    void aBatchIsOnePostWithEveryEventItsKeyAndTheConfiguredHeaders() throws Exception {
        try (AuditSink sink = sink(Map.of("url", url(), "bearer_token_env", "TOKEN", "headers", Map.of("X-Source", "gw1")),
                Map.of("TOKEN", "s3cret"))) {
            sink.deliver(List.of(event(1), event(2), event(3)));
            Request r = requests.poll(30, TimeUnit.SECONDS);
            assertThat(r).isNotNull();
            assertThat(r.body().get("events")).extracting(e -> e.get("event_id").asText())
                    .containsExactly("store-1", "store-2", "store-3");
            assertThat(r.headers().getFirst("Content-Type")).isEqualTo("application/json");
            assertThat(r.headers().getFirst("Authorization")).isEqualTo("Bearer s3cret");
            assertThat(r.headers().getFirst("X-Source")).isEqualTo("gw1");
            assertThat(r.headers().getFirst("Idempotency-Key")).matches("[0-9a-f]{64}")
                    .isEqualTo(WebhookSink.idempotencyKey(List.of(event(1), event(2), event(3))));
        }
    }

    @Test
    void aNon2xxAnswerFailsTheBatchAndTheRetryCarriesTheSameKey() throws Exception {
        status.set(503);
        try (AuditSink sink = sink(Map.of("url", url()), Map.of())) {
            List<AuditEvent> batch = List.of(event(1), event(2));
            assertThatThrownBy(() -> sink.deliver(batch)).isInstanceOf(IOException.class).hasMessageContaining("HTTP 503");
            status.set(204);
            sink.deliver(batch);
            String first = requests.poll(30, TimeUnit.SECONDS).headers().getFirst("Idempotency-Key");
            String retry = requests.poll(30, TimeUnit.SECONDS).headers().getFirst("Idempotency-Key");
            assertThat(retry).isEqualTo(first);
            assertThat(WebhookSink.idempotencyKey(List.of(event(1)))).isNotEqualTo(first);
        }
    }

    @Test
    void aReceiverThatDoesNotAnswerInTimeFailsTheBatch() throws Exception {
        hang = true;
        try (AuditSink sink = sink(Map.of("url", url(), "timeout", "300ms"), Map.of())) {
            assertThatThrownBy(() -> sink.deliver(List.of(event(1)))).isInstanceOf(HttpTimeoutException.class);
        }
    }

    @Test
    void theBatchSizeIsConfigurable() throws Exception {
        try (AuditSink sink = sink(Map.of("url", url(), "max_batch", 7), Map.of())) {
            assertThat(sink.maxBatchSize()).isEqualTo(7);
        }
    }

    @Test
    void configurationErrorsNameTheKey() {
        assertThatThrownBy(() -> sink(Map.of(), Map.of())).hasMessage("audit.sinks[0].url: is required");
        assertThatThrownBy(() -> sink(Map.of("url", "ftp://x/"), Map.of())).hasMessageContaining("http:// or https://");
        assertThatThrownBy(() -> sink(Map.of("url", "https://u:p@x/"), Map.of())).hasMessageContaining("must not carry a user");
        assertThatThrownBy(() -> sink(Map.of("url", "https://x/", "headers", Map.of("Authorization", "Basic x")), Map.of()))
                .hasMessageStartingWith("audit.sinks[0].headers.Authorization: is set by the sink itself");
        assertThatThrownBy(() -> sink(Map.of("url", "https://x/", "headers", Map.of("Bad Name", "x")), Map.of()))
                .hasMessageContaining("not a valid HTTP header name");
        assertThatThrownBy(() -> sink(Map.of("url", "https://x/", "bearer_token_env", "NOPE"), Map.of()))
                .hasMessage("audit.sinks[0].bearer_token_env: environment variable NOPE is not set");
        assertThatThrownBy(() -> sink(Map.of("url", "https://x/", "max_batch", 0), Map.of()))
                .hasMessageStartingWith("audit.sinks[0].max_batch:");
        assertThatThrownBy(() -> sink(Map.of("url", "https://x/", "token", "x"), Map.of()))
                .hasMessageStartingWith("audit.sinks[0].token: unknown key");
    }
}
