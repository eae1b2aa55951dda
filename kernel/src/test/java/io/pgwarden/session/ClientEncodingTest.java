package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.RawPgClient;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * The gateway checks statements as UTF-8 text, so it only relays sessions whose statement
 * bytes are UTF-8: text that is not is refused (22021, as PostgreSQL would), and a session
 * that asks for another client_encoding, at start or later, is ended (0A000). In SJIS, BIG5
 * or GBK a byte of a multi-byte character can be a quote or a backslash: the gateway would
 * not see the statement the server runs.
 */
class ClientEncodingTest {
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(TestPostgres.shared());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void statementTextThatIsNotUtf8IsRefusedAndTheSessionGoesOn() throws Exception {
        try (RawPgClient client = RawPgClient.connect(gateway.port(), Duration.ofSeconds(10))) {
            client.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, "encoding-test");
            ByteArrayOutputStream q = new ByteArrayOutputStream();
            q.writeBytes("SELECT 'caf".getBytes(StandardCharsets.US_ASCII));
            q.write(0xE9); // Latin-1 é: not UTF-8
            q.writeBytes("'".getBytes(StandardCharsets.US_ASCII));
            q.write(0);
            client.send('Q', q.toByteArray());
            assertThatThrownBy(() -> client.readUntil('Z')).isInstanceOfSatisfying(RawPgClient.ServerError.class,
                    e -> assertThat(e.error().sqlState()).isEqualTo("22021"));
            client.readUntil('Z');
            client.query("SELECT 'café'");
            client.readUntil('Z');
        }
    }

    @Test
    void aSessionStartedWithAnotherClientEncodingIsRefused() throws Exception {
        try (RawPgClient client = RawPgClient.connect(gateway.port(), Duration.ofSeconds(10))) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("user", TestGateway.AGENT);
            p.put("database", TestPostgres.DATABASE);
            p.put("client_encoding", "SJIS");
            client.startup(p);
            client.readUntil('R');
            client.password(TestGateway.AGENT_KEY);
            assertThatThrownBy(() -> client.readUntil('Z')).isInstanceOfSatisfying(RawPgClient.ServerError.class, e -> {
                assertThat(e.error().sqlState()).isEqualTo("0A000");
                assertThat(e.error().fields().get('M')).contains("SJIS");
            });
        }
    }

    @Test
    void changingClientEncodingInASessionIsRefused() throws Exception {
        try (Connection c = gateway.connect(Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
            s.execute("SET client_encoding = 'UTF8'"); // no change of substance: fine
            PSQLException ended = (PSQLException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> s.execute("SELECT set_config('client_encoding', 'BIG5', false)"));
            // set_config is on the built-in deny list; SET is the way a client would try.
            assertThat(ended.getSQLState()).isEqualTo("42501");
            PSQLException viaSet = (PSQLException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> s.execute("SET client_encoding = 'BIG5'"));
            // Refused before it reaches the server; the ParameterStatus watch behind it ends a
            // session whose encoding changes any other way (see the start-up case above).
            assertThat(viaSet.getSQLState()).isEqualTo("0A000");
            assertThat(c.isValid(2)).isTrue();
        }
    }
}
