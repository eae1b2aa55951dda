package io.pgwarden.appliance;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.util.PSQLException;

/** What the distribution and image tests share: a configuration, a started gateway process, an agent. */
final class ApplianceTests {
    static final String AGENT = "appliance-agent";
    static final String AGENT_KEY = "pgw_appliance_key_0123456789";
    static final String PASSWORD_VARIABLE = "PGWARDEN_APP_PASSWORD";

    private ApplianceTests() {
    }

    static Path artefact(String property) {
        String value = System.getProperty(property);
        assertThat(value).as("system property %s (set by the appliance-image pom)", property).isNotBlank();
        Path path = Path.of(value);
        assertThat(path).exists();
        return path;
    }

    /**
     * A configuration as an operator would write it: TLS required, state under {@code state},
     * one agent key allowed to read {@code public.*} of the test database.
     */
    static String yaml(LocalPostgres pg, int port, Path state) {
        return """
                listen: { host: 127.0.0.1, port: %1$d, tls: { mode: require } }
                admin: { host: 127.0.0.1, port: 0, credential_file: "%3$s/admin-credential.json" }
                store: { url: "jdbc:h2:file:%3$s/pgwarden" }
                vault: { key_file: "%3$s/vault.key" }   # as the shipped config: state on the volume, the config read-only
                upstreams:
                  - { name: app, host: 127.0.0.1, port: %2$d, database: %4$s, tls: disable,
                      credential: { user: %5$s, password_env: %6$s } }
                authenticators:
                  - type: static-keys
                    keys: [ { name: %7$s, key_sha256: "%8$s", groups: [readers] } ]
                policies:
                  - { name: readers, match: { groups: [readers] }, upstream: app,
                      allow: { commands: [SELECT], relations: ["public.*"] } }
                audit: { sinks: [ { type: jsonl, path: "%3$s/audit/audit.jsonl" } ] }
                """.formatted(port, pg.port(), state, TestPostgres.DATABASE, pg.superuser(), PASSWORD_VARIABLE,
                AGENT, TestGateway.sha256Hex(AGENT_KEY));
    }

    /** A gateway process; its output is kept in a file for the assertion messages. */
    record GatewayProcess(Process process, Path log) implements AutoCloseable {
        static GatewayProcess start(List<String> command, Map<String, String> env, Path log) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(env);
            return new GatewayProcess(pb.start(), log);
        }

        String output() throws IOException {
            return Files.readString(log, StandardCharsets.UTF_8);
        }

        /** Polls until {@code health} exits 0 (the gateway has written its admin credential and answers). */
        void awaitHealthy(List<String> health) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            ExternalCommand.Result last = null;
            while (System.nanoTime() < deadline) {
                assertThat(process.isAlive()).as("gateway exited early:\n%s", output()).isTrue();
                last = ExternalCommand.run(health, Map.of(), null, 60);
                if (last.exitCode() == 0) {
                    assertThat(last.output()).contains("ok");
                    return;
                }
                Thread.sleep(200);
            }
            throw new AssertionError("the gateway did not become healthy within 60s; last health check: " + last
                    + "\ngateway output:\n" + output());
        }

        /** SIGTERM, as a service manager stops it; returns the exit status. */
        int stop() throws Exception {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("the gateway did not stop within 60s of SIGTERM:\n" + output());
            }
            return process.exitValue();
        }

        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    static Connection connectAsAgent(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", AGENT);
        p.setProperty("password", AGENT_KEY);
        p.setProperty("sslmode", "require");
        p.setProperty("sslfactory", "org.postgresql.ssl.NonValidatingFactory");
        p.setProperty("connectTimeout", "30");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestPostgres.DATABASE, p);
    }

    /** A query is served and a statement outside the policy is refused by the parser-backed policy. */
    static void assertServesAndEnforcesPolicy(int port) throws SQLException {
        try (Connection c = connectAsAgent(port); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(100);
            }
            Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> s.executeUpdate("DELETE FROM items"));
            assertThat(refused).as("DELETE outside the policy").isNotNull();
            assertThat(refused).isInstanceOf(PSQLException.class);
            assertThat(((PSQLException) refused).getSQLState()).as(refused.getMessage()).isEqualTo("42501");
        }
    }
}
