package io.pgwarden.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.audit.AuditEntry;
import io.pgwarden.cli.CommandLineForTests;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.testing.ApprovalFixture;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

/**
 * Statements that approval rules hold, through a real gateway with real clients (pgjdbc,
 * psql): a held statement never reaches the database before it is approved, runs exactly
 * once when it is, is refused with 42501 naming the request and the decider when it is
 * denied or times out, is withdrawn by a cancel, and the session stays usable afterwards.
 */
class ApprovalsThroughGatewayTest {
    private static final String APPROVER = "approver";
    private static final String APPROVER_KEY = "approver-key-0123456789";
    private static final String DELETER = ApprovalFixture.DELETER;
    private static final String DELETER_KEY = ApprovalFixture.DELETER_KEY;

    @TempDir
    static Path dir;
    private static LocalPostgres pg;
    private static TestGateway gateway;
    private static Path configFile;

    @BeforeAll
    static void start() throws Exception {
        pg = TestPostgres.shared();
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS approval_items, approval_big, approval_secrets");
            s.execute("CREATE TABLE approval_items (id int PRIMARY KEY, label text)");
            s.execute("CREATE TABLE approval_big AS SELECT g AS id FROM generate_series(1, 5000) g");
            s.execute("CREATE TABLE approval_secrets (id int)");
            s.execute("ANALYZE approval_big");
        }
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg), ApprovalFixture.deleterKeys("approval-test-keys",
                "      - { name: %s, key_sha256: \"%s\", groups: [approvers] }\n".formatted(APPROVER, TestGateway.sha256Hex(APPROVER_KEY))),
                ApprovalFixture.heldPolicy("""
                      - { when: { commands: [DELETE, UPDATE], without_where: true }, approvers: [web], timeout: 10m }
                      - { when: { relations: [public.approval_secrets] }, approvers: [web], timeout: 2s }
                      - { when: { ddl: true }, approvers: [web], mode: ticket, validity: 1h }
                      - { when: { commands: [UPDATE], estimated_rows_over: 1000 }, approvers: [web] }
                """)).replace("policies:\n", "approvers:\n  - { type: web }\npolicies:\n");
        // The admin credential for the CLI: a file of this test's own, read by `approvals approve`.
        TestGateway.ForCli cli = TestGateway.startForCli(yaml, dir, pg.password());
        gateway = cli.gateway();
        configFile = cli.configFile();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @BeforeEach
    void rows() throws Exception {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE approval_items");
            s.execute("INSERT INTO approval_items SELECT g, 'item ' || g FROM generate_series(1, 10) g");
            s.execute("DROP TABLE IF EXISTS approval_made");
        }
    }

    private static Connection direct() throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(TestPostgres.DATABASE), pg.superuser(), pg.password());
    }

    private static Connection agent(String name, String key, Map<String, String> extra) throws SQLException {
        return ApprovalFixture.connect(gateway, name, key, extra);
    }

    private static Connection deleter() throws SQLException {
        return ApprovalFixture.deleter(gateway);
    }

    private static long items() throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM approval_items")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Approvals approvals() {
        return gateway.gateway().approvals();
    }

    /** The one request pending for this statement text; waits until it is open (a poll with a deadline). */
    private static ApprovalRecord awaitPending(String statement) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            var pending = approvals().list(false).stream().filter(a -> a.request().statement().equals(statement)).toList();
            if (!pending.isEmpty()) {
                return pending.getFirst();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no approval request for " + statement + " within 30 s");
    }

    private static ApprovalRecord awaitStatus(String id, ApprovalStatus status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            var r = approvals().record(id).orElseThrow();
            if (r.status() == status) {
                return r;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("request " + id + " did not become " + status);
    }

    private static CompletableFuture<Integer> update(Statement s, String sql) {
        return ApprovalFixture.inBackground(() -> s.executeUpdate(sql));
    }

    private static PSQLException failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof PSQLException p) {
                return p;
            }
            throw e;
        }
        throw new AssertionError("the statement succeeded");
    }

    /** The statement events that name an approval request: its hold, its decision, the statement's run. */
    private static List<AuditEvent> auditOf(String requestId) throws Exception {
        List<AuditEvent> events = new ArrayList<>();
        for (AuditEntry e : gateway.gateway().audit().list(null, null, 100_000)) {
            if (e.event().kind() == AuditEvent.Kind.STATEMENT && e.event().reason() != null
                    && e.event().reason().contains("request " + requestId)) {
                events.add(e.event());
            }
        }
        return events;
    }

    @Test
    void anApprovedStatementRunsOnceAndNeverBeforeTheApproval() throws Exception {
        String requestId;
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            CompletableFuture<Integer> deleted = update(s, "DELETE FROM approval_items");
            ApprovalRecord request = awaitPending("DELETE FROM approval_items");
            requestId = request.id();
            assertThat(request.request().identity()).isEqualTo(DELETER);
            assertThat(request.request().reason()).isEqualTo("DELETE without WHERE on approval_items");
            assertThat(items()).as("rows while the statement is held").isEqualTo(10);
            assertThat(deleted).isNotDone();

            var cli = CommandLineForTests.run("approvals", "approve", request.id(), "--config", configFile.toString(),
                    "--as", "alice", "--reason", "cleanup ticket 42");
            assertThat(cli.exitCode()).as(cli.err()).isZero();
            assertThat(cli.out()).contains("approval request " + request.id() + " approved by alice");

            assertThat(deleted.get(60, TimeUnit.SECONDS)).isEqualTo(10);
            assertThat(items()).isZero();
            assertThat((Object) s.getWarnings()).isNotNull();
            assertThat(s.getWarnings().getMessage()).contains("statement held for approval: request " + request.id());
            // The session goes on, and a second approval is needed for a second run.
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM approval_items")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
            var again = CommandLineForTests.run("approvals", "approve", request.id(), "--config", configFile.toString(), "--as", "alice");
            assertThat(again.exitCode()).isEqualTo(1);
            assertThat(again.err()).contains("already approved");
        }
        List<AuditEvent> events = auditOf(requestId);
        assertThat(events).extracting(AuditEvent::decision).containsExactly("HOLD", "APPROVED", "ALLOW");
        assertThat(events.get(0).identity()).isEqualTo(DELETER);
        assertThat(events.get(0).outcome()).isEqualTo(AuditEvent.Outcome.OK);
        assertThat(events.get(1).reason()).contains("of identity deleter").contains("approved by alice via cli: cleanup ticket 42");
        assertThat(events.get(2).identity()).isEqualTo(DELETER);
        assertThat(events.get(2).reason()).isEqualTo("approval request " + requestId + " approved by alice via cli: cleanup ticket 42");
        assertThat(events.get(2).rows()).isEqualTo(10);
        assertThat(gateway.gateway().audit().verify().ok()).isTrue();
    }

    @Test
    void aDeniedStatementIsRefusedNamingTheRequestAndTheDeciderAndTheSessionGoesOn() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            CompletableFuture<Integer> deleted = update(s, "UPDATE approval_items SET label = 'x'");
            ApprovalRecord request = awaitPending("UPDATE approval_items SET label = 'x'");
            approvals().decide(request.id(), false, "bob", "web", "not on a Friday");
            PSQLException e = failure(deleted);
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getServerErrorMessage().getMessage())
                    .isEqualTo("statement not run: approval request " + request.id() + " was denied by bob");
            assertThat(e.getServerErrorMessage().getDetail()).isEqualTo("Reason: not on a Friday");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM approval_items WHERE label = 'x'")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
        }
        assertThat(items()).isEqualTo(10);
    }

    @Test
    void aRequestNobodyDecidesTimesOut() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            PSQLException e = failure(update(s, "INSERT INTO approval_secrets VALUES (1)"));
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getServerErrorMessage().getMessage()).matches("statement not run: approval request \\w+ timed out without a decision");
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
        try (Connection c = direct(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM approval_secrets")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    @Test
    void aCancelWithdrawsTheRequest() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            CompletableFuture<Integer> deleted = update(s, "DELETE FROM approval_items ");
            ApprovalRecord request = awaitPending("DELETE FROM approval_items ");
            s.cancel();
            PSQLException e = failure(deleted);
            assertThat(e.getSQLState()).isEqualTo("57014");
            ApprovalRecord withdrawn = awaitStatus(request.id(), ApprovalStatus.WITHDRAWN);
            assertThat(withdrawn.decidedBy()).isEqualTo("the client");
            assertThatThrownBy(() -> approvals().decide(request.id(), true, "alice", "web", null))
                    .isInstanceOf(ApprovalException.class).hasMessageContaining("already withdrawn");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM approval_items")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(10);
            }
        }
    }

    @Test
    void aDisconnectWithdrawsTheRequest() throws Exception {
        Connection c = deleter();
        Statement s = c.createStatement();
        CompletableFuture<Integer> deleted = update(s, "DELETE FROM approval_items  ");
        ApprovalRecord request = awaitPending("DELETE FROM approval_items  ");
        c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().abort(); // the socket closes under the waiting client
        failure(deleted);
        assertThat(awaitStatus(request.id(), ApprovalStatus.WITHDRAWN).decisionReason()).contains("the session ended");
        assertThat(items()).isEqualTo(10);
    }

    @Test
    void anAgentCannotApproveItsOwnRequest() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            CompletableFuture<Integer> deleted = update(s, "DELETE FROM approval_items   ");
            ApprovalRecord request = awaitPending("DELETE FROM approval_items   ");
            assertThatThrownBy(() -> approvals().decide(request.id(), true, DELETER, "cli", null))
                    .isInstanceOf(ApprovalException.class).hasMessage("an identity cannot decide its own approval request");
            var cli = CommandLineForTests.run("approvals", "approve", request.id(), "--config", configFile.toString(), "--as", DELETER);
            assertThat(cli.exitCode()).isEqualTo(1);
            assertThat(cli.err()).contains("cannot decide its own");
            assertThat(approvals().record(request.id()).orElseThrow().status()).isEqualTo(ApprovalStatus.PENDING);
            approvals().decide(request.id(), false, "alice", "cli", null);
            assertThat(failure(deleted).getSQLState()).isEqualTo("42501");
        }
    }

    @Test
    void theExtendedProtocolHoldsAtExecute() throws Exception {
        try (Connection c = agent(DELETER, DELETER_KEY, Map.of("prepareThreshold", "1"));
             PreparedStatement p = c.prepareStatement("INSERT INTO approval_secrets VALUES (?)");
             PreparedStatement delete = c.prepareStatement("DELETE FROM approval_items")) {
            CompletableFuture<Integer> done = ApprovalFixture.inBackground(delete::executeUpdate);
            ApprovalRecord request = awaitPending("DELETE FROM approval_items");
            assertThat(items()).isEqualTo(10);
            approvals().decide(request.id(), true, "alice", "web", null);
            assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo(10);
            assertThat(items()).isZero();
            // A parameterised statement on the sensitive table waits too, and is refused when it times out.
            p.setInt(1, 7);
            assertThatThrownBy(p::executeUpdate).isInstanceOf(PSQLException.class).hasMessageContaining("timed out");
        }
    }

    @Test
    void aMultiStatementStringIsHeldWhole() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            String sql = "INSERT INTO approval_items VALUES (11, 'new'); DELETE FROM approval_items";
            CompletableFuture<Boolean> done = ApprovalFixture.inBackground(() -> s.execute(sql));
            ApprovalRecord request = awaitPending(sql);
            assertThat(items()).as("not even the INSERT before the DELETE ran").isEqualTo(10);
            approvals().decide(request.id(), false, "alice", "web", null);
            assertThat(failure(done).getSQLState()).isEqualTo("42501");
        }
        assertThat(items()).isEqualTo(10);
    }

    @Test
    void aTicketIsRefusedAtOnceThenRunsOnceWhenApproved() throws Exception {
        String ddl = "CREATE TABLE approval_made (id int)";
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            PSQLException first = failure(update(s, ddl));
            assertThat(first.getSQLState()).isEqualTo("42501");
            String id = approvals().list(false).stream().filter(a -> a.request().statement().equals(ddl)).findFirst().orElseThrow().id();
            assertThat(first.getServerErrorMessage().getMessage())
                    .isEqualTo("statement not run: it needs approval (approval ticket " + id + " was opened)");
            assertThat(first.getServerErrorMessage().getHint()).contains("send the same statement again within 1h");
            PSQLException stillPending = failure(update(s, ddl));
            assertThat(stillPending.getServerErrorMessage().getMessage()).contains("approval ticket " + id + " is still waiting");

            approvals().decide(id, true, "alice", "web", null);
            s.executeUpdate(ddl);
            try (Connection d = direct(); Statement ds = d.createStatement()) {
                ds.execute("DROP TABLE approval_made");
            }
            assertThat(approvals().record(id).orElseThrow().status()).isEqualTo(ApprovalStatus.USED);
            PSQLException usedUp = failure(update(s, ddl));
            assertThat(usedUp.getServerErrorMessage().getMessage()).contains("was opened").doesNotContain(id);
        }
    }

    @Test
    void aRowEstimateUnderTheLimitNeedsNoApproval() throws Exception {
        try (Connection c = deleter(); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate("UPDATE approval_big SET id = id WHERE id = 1")).isEqualTo(1);
            CompletableFuture<Integer> big = update(s, "UPDATE approval_big SET id = id WHERE id > 0");
            ApprovalRecord request = awaitPending("UPDATE approval_big SET id = id WHERE id > 0");
            assertThat(request.request().reason()).contains("estimated over 1000 rows");
            approvals().decide(request.id(), true, "alice", "web", null);
            assertThat(big.get(60, TimeUnit.SECONDS)).isEqualTo(5000);
        }
    }

    @Test
    void psqlShowsTheRequestAndCompletesOnceApproved() throws Exception {
        Path psql = ExternalCommand.find("psql");
        org.junit.jupiter.api.Assumptions.assumeTrue(psql != null, "psql is not installed");
        Map<String, String> env = new java.util.HashMap<>(gateway.libpqEnvironment());
        env.put("PGUSER", DELETER);
        env.put("PGPASSWORD", DELETER_KEY);
        CompletableFuture<ExternalCommand.Result> run = ApprovalFixture.inBackground(() -> ExternalCommand.run(List.of(psql.toString(),
                "-X", "-v", "ON_ERROR_STOP=1", "-c", "DELETE FROM approval_items", "-c", "SELECT count(*) AS left FROM approval_items"),
                env, null, 60));
        ApprovalRecord request = awaitPending("DELETE FROM approval_items");
        approvals().decide(request.id(), true, "alice", "web", null);
        ExternalCommand.Result result = run.get(60, TimeUnit.SECONDS);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("NOTICE:  statement held for approval: request " + request.id())
                .contains("DELETE 10").contains("    0");
    }
}
