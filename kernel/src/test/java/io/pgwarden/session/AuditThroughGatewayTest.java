package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.audit.AuditEntry;
import io.pgwarden.audit.AuditLog;
import io.pgwarden.audit.AuditReader;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.store.Store;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit trail of real sessions: every statement the agent sends is one STATEMENT event
 * with its identity, decision and outcome, refusals included; and a gateway killed with
 * SIGKILL right after a statement completed has lost none of them.
 */
class AuditThroughGatewayTest {

    @TempDir
    Path dir;

    /** pgjdbc sets application_name with a statement of its own on each connection. */
    private static boolean isDriversOwn(String statement) {
        return statement.startsWith("SET application_name");
    }

    private static List<AuditEvent> statements(AuditLog audit, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            List<AuditEntry> entries = audit.list(null, null, 10_000);
            List<AuditEntry> statements = entries.stream().filter(e -> e.event().kind() == AuditEvent.Kind.STATEMENT)
                    .filter(e -> !isDriversOwn(e.event().statement())).toList();
            if ((statements.size() >= expected && statements.stream().noneMatch(AuditEntry::pending)) || System.nanoTime() > deadline) {
                return statements.stream().map(AuditEntry::event).toList();
            }
            Thread.sleep(20);
        }
    }

    @Test
    void everyStatementIsOneEventWithIdentityDecisionAndOutcome() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        try (TestGateway gateway = TestGateway.start(pg)) {
            try (Connection c = gateway.connect(Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE audited (id int)");
                s.execute("INSERT INTO audited VALUES (1), (2), (3)");
                s.execute("SELECT 1; SELECT 2");
                assertThatThrownBy(() -> s.execute("SELECT 1/0")).hasMessageContaining("division by zero");
                assertThatThrownBy(() -> s.execute("SELECT pg_read_file('/etc/passwd')")).hasMessageContaining("built-in deny list");
            }
            try (Connection c = gateway.connect(); PreparedStatement p = c.prepareStatement("SELECT ?::int + 1")) {
                for (int i = 0; i < 2; i++) {
                    p.setInt(1, i);
                    try (ResultSet rs = p.executeQuery()) {
                        rs.next();
                    }
                }
            }
            List<AuditEvent> events = statements(gateway.gateway().audit(), 7);
            assertThat(events).hasSize(7);
            assertThat(events).allSatisfy(e -> {
                assertThat(e.identity()).isEqualTo(TestGateway.AGENT);
                assertThat(e.clientAddress()).isEqualTo("127.0.0.1");
                assertThat(e.database()).isEqualTo(TestPostgres.DATABASE);
                assertThat(e.outcome()).isNotEqualTo(AuditEvent.Outcome.UNKNOWN);
            });
            assertThat(events).extracting(AuditEvent::statement, AuditEvent::decision, AuditEvent::outcome, AuditEvent::rows,
                    AuditEvent::sqlstate).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("CREATE TEMP TABLE audited (id int)", "ALLOW", AuditEvent.Outcome.OK, null, null),
                    org.assertj.core.groups.Tuple.tuple("INSERT INTO audited VALUES (1), (2), (3)", "ALLOW", AuditEvent.Outcome.OK, 3L, null),
                    org.assertj.core.groups.Tuple.tuple("SELECT 1; SELECT 2", "ALLOW", AuditEvent.Outcome.OK, 2L, null),
                    org.assertj.core.groups.Tuple.tuple("SELECT 1/0", "ALLOW", AuditEvent.Outcome.ERROR, null, "22012"),
                    org.assertj.core.groups.Tuple.tuple("SELECT pg_read_file('/etc/passwd')", "DENY", AuditEvent.Outcome.ERROR, null, "42501"),
                    org.assertj.core.groups.Tuple.tuple("SELECT $1::int + 1", "ALLOW", AuditEvent.Outcome.OK, 1L, null),
                    org.assertj.core.groups.Tuple.tuple("SELECT $1::int + 1", "ALLOW", AuditEvent.Outcome.OK, 1L, null));
            AuditEvent refused = events.get(4);
            assertThat(refused.reason()).contains("built-in deny list");
            assertThat(refused.command()).isEqualTo("SELECT");
            assertThat(events.get(1).relations()).containsExactly("audited");
            assertThat(events.get(5).fingerprint()).isEqualTo(events.get(6).fingerprint()).isNotBlank();
            assertThat(gateway.gateway().audit().verify().ok()).isTrue();
        }
    }

    /** Starts `pgwarden run` in a child JVM, as an operator would. */
    private Process startGatewayProcess(Path config, LocalPostgres pg) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dpgwarden.home=" + TestGateway.PLUGINS.getParent(), "io.pgwarden.cli.Main", "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile());
        pb.environment().put("TEST_UPSTREAM_PASSWORD", pg.password());
        return pb.start();
    }

    @Test
    void aGatewayKilledRightAfterAStatementCompletedHasLostNoEvent() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        int port = LocalPostgres.freePort();
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg))
                .replace("listen: { host: 127.0.0.1, port: 0,", "listen: { host: 127.0.0.1, port: " + port + ",")
                .replaceAll("store: \\{ url: \"[^\"]*\" \\}", "store: { url: \"jdbc:h2:file:" + dir.resolve("data/pgwarden") + "\" }");
        yaml = "admin: { port: 0 }\n" + yaml;
        assertThat(yaml).contains(dir.resolve("data/pgwarden").toString());
        Path config = dir.resolve("pgwarden.yaml");
        Files.writeString(config, yaml);

        Process gateway = startGatewayProcess(config, pg);
        int statements = 25;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Connection c = null;
            while (c == null) {
                try {
                    c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestPostgres.DATABASE
                            + "?sslmode=disable", TestGateway.AGENT, TestGateway.AGENT_KEY);
                } catch (java.sql.SQLException e) {
                    if (System.nanoTime() > deadline || !gateway.isAlive()) {
                        throw new AssertionError("the gateway did not start: " + Files.readString(dir.resolve("gateway.log")), e);
                    }
                    Thread.sleep(100);
                }
            }
            try (Statement s = c.createStatement()) {
                for (int i = 0; i < statements; i++) {
                    try (ResultSet rs = s.executeQuery("SELECT " + i)) {
                        rs.next();
                    }
                }
            }
            // The last result is in the client's hands: kill at once, no shutdown hook, no H2 close.
            gateway.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            c.close();
        } finally {
            gateway.destroyForcibly();
        }

        // The store is encrypted: only the configuration's vault key opens it.
        try (io.pgwarden.vault.Vault vault = io.pgwarden.vault.Vault.open(io.pgwarden.config.ConfigLoader.load(config), name -> null)) {
            Store store = vault.store();
            List<AuditEntry> entries = new AuditReader(store).list(null, null, 10_000);
            List<String> texts = entries.stream().filter(e -> e.event().kind() == AuditEvent.Kind.STATEMENT)
                    .map(e -> e.event().statement()).filter(t -> !isDriversOwn(t)).toList();
            assertThat(texts).as(texts.toString()).hasSize(statements);
            for (int i = 0; i < statements; i++) {
                assertThat(texts.get(i)).isEqualTo("SELECT " + i);
            }
            assertThat(new AuditReader(store).verify().ok()).isTrue();
        }
    }
}
