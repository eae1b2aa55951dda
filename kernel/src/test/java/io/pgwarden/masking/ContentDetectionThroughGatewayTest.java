package io.pgwarden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Content detection through a real gateway: personal data in columns no rule names (free
 * text, JSON documents) is found and masked in results and error messages, in text and
 * binary format, and values without any stay exactly as they are.
 */
class ContentDetectionThroughGatewayTest {
    private static LocalPostgres pg;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        pg = TestPostgres.shared();
        pg.sql(TestPostgres.DATABASE, """
                DROP SCHEMA IF EXISTS cd CASCADE;
                CREATE SCHEMA cd;
                CREATE TABLE cd.tickets (id int, body text, meta jsonb, plain text);
                INSERT INTO cd.tickets VALUES
                  (1, 'Call me at carol.private@example.net, card 4111 1111 1111 1111 please',
                      '{"contact": {"mail": "carol.private@example.net", "tags": ["vip"]}, "card": 4111111111111111, "n": 3}',
                      'nothing to see here'),
                  (2, 'IBAN GB82 WEST 1234 5698 7654 32 and SSN 078-05-1120', '{"ok": true}', 'order 12345');
                """);
        String yaml = TestGateway.yamlWithPolicy(pg, """
                    allow: { commands: [ALL, DO] }
                    mask:
                      - { detect: [email, phone, card, ssn, iban], masker: redact }
                """);
        gateway = TestGateway.start(yaml, pg.password());
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static final List<String> SECRETS = List.of("carol.private", "4111 1111 1111 1111", "4111111111111111",
            "GB82 WEST", "078-05-1120", "WEST12345698765432");

    private static String rows(Connection c, String sql) throws Exception {
        StringBuilder out = new StringBuilder();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                for (int i = 1; i <= n; i++) {
                    out.append(rs.getString(i)).append('|');
                }
                out.append('\n');
            }
        }
        return out.toString();
    }

    @Test
    void personalDataInTextAndJsonIsMaskedAndTheRestIsKept() throws Exception {
        for (Map<String, String> props : List.of(Map.<String, String>of(), Map.of("preferQueryMode", "simple"),
                Map.of("prepareThreshold", "-1", "binaryTransfer", "true"))) {
            try (Connection c = gateway.connect(props)) {
                String seen = rows(c, "SELECT id, body, meta, plain FROM cd.tickets ORDER BY id");
                for (String secret : SECRETS) {
                    assertThat(seen).as("%s: %s", props, seen).doesNotContain(secret);
                }
                assertThat(seen).as(props.toString()).contains("Call me at ").contains("nothing to see here")
                        .contains("order 12345");
                assertThat(seen.replace(" ", "")).contains("\"tags\":[\"vip\"]").contains("\"n\":3").contains("{\"ok\":true}");
                // The JSON stays a valid document.
                String meta = rows(c, "SELECT meta FROM cd.tickets WHERE id = 1").strip();
                meta = meta.substring(0, meta.length() - 1);
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(meta);
                assertThat(rows(c, "SELECT count(*) FROM cd.tickets")).isEqualTo("2|\n");
            }
        }
    }

    @Test
    void notificationPayloadsFromOtherSessionsAreChecked() throws Exception {
        try (Connection listener = gateway.connect();
             Connection sender = java.sql.DriverManager.getConnection(pg.jdbcUrl(TestPostgres.DATABASE), pg.superuser(), pg.password())) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN cd_channel");
            }
            try (Statement s = sender.createStatement()) {
                s.execute("NOTIFY cd_channel, 'reach carol.private@example.net now'");
            }
            org.postgresql.PGNotification[] received = null;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while ((received == null || received.length == 0) && System.nanoTime() < deadline) {
                received = listener.unwrap(org.postgresql.PGConnection.class).getNotifications(500);
            }
            assertThat(received).hasSize(1);
            assertThat(received[0].getParameter()).isEqualTo("reach [redacted] now");
        }
    }

    @Test
    void errorMessagesAreCheckedToo() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            try {
                s.execute("SELECT body::int FROM cd.tickets WHERE id = 1");
            } catch (java.sql.SQLException e) {
                assertThat(e.getMessage()).doesNotContain("carol.private").doesNotContain("4111");
                assertThat(e.getSQLState()).isEqualTo("22P02");
            }
            assertThat(rows(c, "SELECT 1")).isEqualTo("1|\n");
        }
    }
}
