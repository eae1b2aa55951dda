package io.pgwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.store.Store;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pgwarden audit list|verify} against a running gateway (admin API) and a stopped
 * one (its store), and verify's verdict on a tampered trail.
 */
class AuditCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path writeConfig(LocalPostgres pg) throws Exception {
        String yaml = "admin: { port: 0, credential_file: \"" + dir.resolve("data/admin-credential.json") + "\" }\n"
                + TestGateway.yaml(pg, TestGateway.Settings.defaults(pg)).replaceAll("store: \\{ url: \"[^\"]*\" \\}",
                "store: { url: \"jdbc:h2:file:" + dir.resolve("data/pgwarden") + "\" }");
        Path config = dir.resolve("pgwarden.yaml");
        Files.writeString(config, yaml);
        return config;
    }

    private static List<JsonNode> statementLines(CommandLineForTests.Result r) throws Exception {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String line : r.out().lines().toList()) {
            JsonNode node = JSON.readTree(line);
            if (node.path("kind").asText().equals("STATEMENT") && !node.path("statement").asText().startsWith("SET application_name")) {
                out.add(node);
            }
        }
        return out;
    }

    @Test
    void listAndVerifyWorkWhileTheGatewayRunsAndAfterItStopped() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        Path config = writeConfig(pg);
        Instant before = Instant.now();
        try (TestGateway gateway = TestGateway.start(Files.readString(config), pg.password())) {
            try (Connection c = gateway.connect(Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
                s.execute("SELECT 41 + 1");
                try {
                    s.execute("SELECT pg_read_file('/etc/passwd')");
                } catch (java.sql.SQLException expected) {
                    // refused: still audited
                }
            }
            CommandLineForTests.Result list;
            long deadline = System.nanoTime() + 30_000_000_000L;
            do {
                list = CommandLineForTests.run("audit", "list", "--config", config.toString(), "--json",
                        "--identity", TestGateway.AGENT, "--since", before.toString());
            } while (statementLines(list).stream().anyMatch(n -> n.path("pending").asBoolean()) && System.nanoTime() < deadline);
            assertThat(list.exitCode()).as(list.err()).isZero();
            List<JsonNode> statements = statementLines(list);
            assertThat(statements).hasSize(2);
            for (JsonNode n : statements) {
                assertThat(n.fieldNames()).toIterable().contains("time", "session", "identity", "statement", "decision", "sqlstate", "rows");
                assertThat(n.path("identity").asText()).isEqualTo(TestGateway.AGENT);
            }
            assertThat(statements.get(0).path("statement").asText()).isEqualTo("SELECT 41 + 1");
            assertThat(statements.get(0).path("rows").asLong()).isEqualTo(1);
            assertThat(statements.get(1).path("decision").asText()).isEqualTo("DENY");
            assertThat(statements.get(1).path("sqlstate").asText()).isEqualTo("42501");

            CommandLineForTests.Result table = CommandLineForTests.run("audit", "list", "--config", config.toString());
            assertThat(table.out()).contains("SELECT 41 + 1").contains("DENY");
            CommandLineForTests.Result verify = CommandLineForTests.run("audit", "verify", "--config", config.toString());
            assertThat(verify.exitCode()).as(verify.err()).isZero();
            assertThat(verify.out()).startsWith("audit trail ok:");
        }

        // Stopped: the same answers, read from the store.
        CommandLineForTests.Result stopped = CommandLineForTests.run("audit", "list", "--config", config.toString(), "--json",
                "--limit", "1000");
        assertThat(stopped.exitCode()).as(stopped.err()).isZero();
        assertThat(statementLines(stopped)).extracting(n -> n.path("statement").asText())
                .containsExactly("SELECT 41 + 1", "SELECT pg_read_file('/etc/passwd')");
        assertThat(CommandLineForTests.run("audit", "verify", "--config", config.toString()).exitCode()).isZero();

        // Someone edits a statement in the store: verify names the record and exits 2.
        long seq;
        try (io.pgwarden.vault.Vault vault = io.pgwarden.vault.Vault.open(io.pgwarden.config.ConfigLoader.load(config), name -> null);
             Connection c = vault.store().connect(); Statement s = c.createStatement()) {
            var rs = s.executeQuery("SELECT seq FROM audit_record WHERE statement = 'SELECT 41 + 1'");
            rs.next();
            seq = rs.getLong(1);
            s.execute("UPDATE audit_record SET statement = 'SELECT 1' WHERE seq = " + seq);
        }
        CommandLineForTests.Result tampered = CommandLineForTests.run("audit", "verify", "--config", config.toString());
        assertThat(tampered.exitCode()).isEqualTo(2);
        assertThat(tampered.err()).contains("BROKEN at record " + seq);
    }

    @Test
    void aConfigurationThatNeverRanHasNoTrailAndSaysSo() throws Exception {
        Path config = writeConfig(TestPostgres.shared());
        CommandLineForTests.Result r = CommandLineForTests.run("audit", "list", "--config", config.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("no audit trail at").contains("has not run with this configuration");
        assertThat(Files.exists(dir.resolve("data/pgwarden.mv.db"))).as("nothing created").isFalse();
    }

    @Test
    void sinceTakesAnInstantADateOrADuration() {
        Instant now = Instant.parse("2026-11-26T10:00:00Z");
        assertThat(AuditCommand.parseSince("2026-11-26T09:00:00Z", now)).isEqualTo(Instant.parse("2026-11-26T09:00:00Z"));
        assertThat(AuditCommand.parseSince("2026-11-25", now)).isEqualTo(Instant.parse("2026-11-25T00:00:00Z"));
        assertThat(AuditCommand.parseSince("2h", now)).isEqualTo(Instant.parse("2026-11-26T08:00:00Z"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AuditCommand.parseSince("yesterday", now))
                .hasMessageContaining("neither an instant");
    }
}
