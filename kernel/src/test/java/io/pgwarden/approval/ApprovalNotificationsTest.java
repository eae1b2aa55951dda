package io.pgwarden.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import com.sun.net.httpserver.HttpServer;
import io.pgwarden.audit.AuditEntry;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.testing.ApprovalFixture;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/**
 * Notifications through the bundled approver plugins, loaded by the gateway as PF4J jars:
 * the e-mail reaches a real SMTP server (GreenMail), the Slack message a local HTTP receiver,
 * and following their signed links decides the request as their recipient.
 */
class ApprovalNotificationsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DELETER = ApprovalFixture.DELETER;

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort());

    private final BlockingQueue<JsonNode> slack = new LinkedBlockingQueue<>();
    private HttpServer slackReceiver;
    private TestGateway gateway;
    private LocalPostgres pg;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        slackReceiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        slackReceiver.createContext("/services/hook", exchange -> {
            try (exchange) {
                slack.add(JSON.readTree(exchange.getRequestBody()));
                exchange.sendResponseHeaders(200, -1);
            }
        });
        slackReceiver.start();
        pg = TestPostgres.shared();
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS notify_items");
            s.execute("CREATE TABLE notify_items AS SELECT g AS id FROM generate_series(1, 5) g");
        }
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg), ApprovalFixture.deleterKeys("notification-test-keys", ""),
                ApprovalFixture.heldPolicy("""
                      - { when: { commands: [DELETE], without_where: true }, approvers: [email, slack] }
                """)).replace("policies:\n", """
                approvers:
                  - { type: email, smtp: { host: 127.0.0.1, port: %d, tls: none }, from: pgwarden@example.com, to: [dba@example.com] }
                  - { type: slack, webhook_url: "http://127.0.0.1:%d/services/hook", channel: "#dba" }
                policies:
                """.formatted(SMTP.getSmtp().getPort(), slackReceiver.getAddress().getPort()));
        gateway = TestGateway.start(yaml, pg.password());
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        slackReceiver.stop(0);
    }

    private Connection direct() throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(TestPostgres.DATABASE), pg.superuser(), pg.password());
    }

    private long items() throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM notify_items")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private Connection deleter() throws SQLException {
        return ApprovalFixture.deleter(gateway);
    }

    private static CompletableFuture<Integer> update(Statement s, String sql) {
        return ApprovalFixture.inBackground(() -> s.executeUpdate(sql));
    }

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Submits the confirmation form of a link: its query's fields, posted back to its path. */
    private HttpResponse<String> confirm(URI link, String reason) throws Exception {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : link.getRawQuery().split("&")) {
            String[] kv = pair.split("=", 2);
            form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
        form.put("reason", reason);
        String body = form.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        URI target = URI.create(link.getScheme() + "://" + link.getAuthority() + link.getRawPath());
        return http.send(HttpRequest.newBuilder(target).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI linkIn(String text, String label) {
        Matcher m = Pattern.compile(label + ":\\s+(\\S+)").matcher(text);
        assertThat(m.find()).as(label + " link in:\n" + text).isTrue();
        return URI.create(m.group(1));
    }

    @Test
    void theMailedApproveLinkApprovesAsItsRecipientOnce() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            CompletableFuture<Integer> deleted = update(s, "DELETE FROM notify_items");
            assertThat(SMTP.waitForIncomingEmail(30_000, 1)).isTrue();
            String mail = GreenMailUtil.getBody(SMTP.getReceivedMessages()[0]);
            assertThat(mail).contains("Identity:  deleter").contains("    DELETE FROM notify_items");
            URI approve = linkIn(mail, "Approve");

            HttpResponse<String> page = get(approve);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("DELETE FROM notify_items").contains("Approve as dba@example.com");
            assertThat(page.headers().firstValue("Content-Security-Policy")).get().asString().contains("default-src 'none'");
            assertThat(items()).as("opening the link decides nothing").isEqualTo(5);

            URI forged = URI.create(approve.toString().replace("to=dba%40example.com", "to=mallory%40example.com"));
            assertThat(confirm(forged, "").statusCode()).isEqualTo(403);

            HttpResponse<String> decided = confirm(approve, "looks fine");
            assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
            assertThat(decided.body()).contains("Recorded: <b>approved</b> by dba@example.com");
            assertThat(deleted.get(60, TimeUnit.SECONDS)).isEqualTo(5);
            assertThat(confirm(approve, "again").statusCode()).isEqualTo(409);
        }
        AuditEvent ran = gateway.gateway().audit().list(DELETER, null, 1000).stream().map(AuditEntry::event)
                .filter(e -> "ALLOW".equals(e.decision()) && "DELETE FROM notify_items".equals(e.statement())).findFirst().orElseThrow();
        assertThat(ran.reason()).endsWith("approved by dba@example.com via email: looks fine");
    }

    @Test
    void theSlackDenyButtonDeniesAsTheChannel() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            CompletableFuture<Integer> deleted = update(s, "DELETE FROM notify_items");
            JsonNode message = slack.poll(30, TimeUnit.SECONDS);
            assertThat(message).isNotNull();
            assertThat(message.path("blocks").get(1).path("text").path("text").asText()).isEqualTo("```DELETE FROM notify_items```");
            URI deny = URI.create(message.path("blocks").get(2).path("elements").get(1).path("url").asText());
            assertThat(confirm(deny, "not now").statusCode()).isEqualTo(200);
            try {
                deleted.get(60, TimeUnit.SECONDS);
                throw new AssertionError("the statement ran");
            } catch (java.util.concurrent.ExecutionException e) {
                PSQLException refused = (PSQLException) e.getCause();
                assertThat(refused.getSQLState()).isEqualTo("42501");
                assertThat(refused.getServerErrorMessage().getMessage()).endsWith("was denied by slack #dba");
            }
        }
        assertThat(items()).isEqualTo(5);
    }

    @Test
    void theAdminApiRefusesApprovalRequestsWithoutAuthentication() throws Exception {
        URI api = gateway.gateway().adminUrl().resolve("/api/approvals");
        assertThat(get(api).statusCode()).isEqualTo(401);
        HttpResponse<String> approve = http.send(HttpRequest.newBuilder(gateway.gateway().adminUrl().resolve("/api/approvals/x/approve"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"as\":\"mallory\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(approve.statusCode()).isEqualTo(401);
        assertThat(get(gateway.gateway().adminUrl().resolve("/api/approvals/events")).statusCode()).isEqualTo(401);
    }
}
