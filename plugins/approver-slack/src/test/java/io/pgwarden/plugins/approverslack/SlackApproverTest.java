package io.pgwarden.plugins.approverslack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.pgwarden.plugin.api.ApprovalRequest;
import io.pgwarden.plugin.api.Approver;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Slack approver against a local HTTP receiver standing in for the incoming webhook. */
class SlackApproverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ApprovalRequest REQUEST = new ApprovalRequest("a1b2c3d4e5f6", "ci-loader", List.of("loaders"),
            "0011223344556677", "10.0.0.7", "app", "DELETE FROM public.orders WHERE note <> '<b>'", "policies[0].approve[0]",
            "DELETE on public.orders", Instant.parse("2026-11-26T10:00:00Z"), Instant.parse("2026-11-26T10:10:00Z"),
            URI.create("https://gw.example.com:8080/approvals/a1b2c3d4e5f6"));

    private HttpServer server;
    private final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    private final AtomicInteger status = new AtomicInteger(200);

    @BeforeEach
    void startReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/services/T0/B0/secret", exchange -> {
            try (exchange) {
                received.add(JSON.readTree(exchange.getRequestBody()));
                byte[] ok = "ok".getBytes();
                exchange.sendResponseHeaders(status.get(), ok.length);
                exchange.getResponseBody().write(ok);
            }
        });
        server.start();
    }

    @AfterEach
    void stopReceiver() {
        server.stop(0);
    }

    private Approver approver(Map<String, Object> extra) throws PluginConfigException {
        Map<String, Object> values = new java.util.HashMap<>(Map.of("type", "slack", "webhook_url_env", "HOOK"));
        values.putAll(extra);
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/services/T0/B0/secret";
        return new SlackApprover(SlackApproverFactory.settings(new PluginConfig("approvers[2]", values), Map.of("HOOK", url)::get));
    }

    @Test
    void theMessageCarriesTheRequestAndTheChannelsLinks() throws Exception {
        List<String> recipients = new java.util.ArrayList<>();
        approver(Map.of("channel", "#dba")).deliver(REQUEST, recipient -> {
            recipients.add(recipient);
            return new ApprovalRequest.Links(URI.create("https://gw.example.com:8080/a?sig=1"), URI.create("https://gw.example.com:8080/d?sig=2"));
        });
        assertThat(recipients).containsExactly("slack #dba");
        JsonNode message = received.poll();
        assertThat(message).isNotNull();
        assertThat(message.path("text").asText()).isEqualTo("pgwarden: approval needed for ci-loader (request a1b2c3d4e5f6)");
        JsonNode blocks = message.path("blocks");
        assertThat(blocks.get(0).path("text").path("text").asText()).contains("*Identity:* ci-loader (loaders)")
                .contains("*Rule:* policies[0].approve[0]: DELETE on public.orders");
        assertThat(blocks.get(1).path("text").path("text").asText())
                .isEqualTo("```DELETE FROM public.orders WHERE note &lt;&gt; '&lt;b&gt;'```");
        JsonNode buttons = blocks.get(2).path("elements");
        assertThat(buttons.get(0).path("url").asText()).isEqualTo("https://gw.example.com:8080/a?sig=1");
        assertThat(buttons.get(1).path("url").asText()).isEqualTo("https://gw.example.com:8080/d?sig=2");
    }

    @Test
    void aRefusingWebhookIsAnErrorThatDoesNotShowItsUrl() throws Exception {
        status.set(404);
        Approver approver = approver(Map.of());
        assertThatThrownBy(() -> approver.deliver(REQUEST, r -> new ApprovalRequest.Links(URI.create("https://x/a"), URI.create("https://x/d"))))
                .isInstanceOf(IOException.class).hasMessage("the Slack webhook answered HTTP 404");
    }

    @Test
    void badConfigurationNamesTheKey() {
        assertThatThrownBy(() -> SlackApproverFactory.settings(new PluginConfig("approvers[2]", Map.of("type", "slack")), k -> null))
                .hasMessageContaining("approvers[2]: give exactly one of webhook_url and webhook_url_env");
        assertThatThrownBy(() -> SlackApproverFactory.settings(new PluginConfig("approvers[2]",
                Map.of("type", "slack", "webhook_url_env", "NOPE")), k -> null))
                .hasMessageContaining("approvers[2].webhook_url_env: environment variable NOPE is not set");
        assertThatThrownBy(() -> SlackApproverFactory.settings(new PluginConfig("approvers[2]",
                Map.of("type", "slack", "webhook_url", "hooks.slack.com/x")), k -> null))
                .hasMessageContaining("approvers[2].webhook_url: must be an absolute http(s) URL");
    }
}
