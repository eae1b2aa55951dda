package io.pgwarden.recording;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.admin.AdminCredential;
import io.pgwarden.cli.CommandLineForTests;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ApprovalFixture;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Session recording through a real gateway and PostgreSQL, with pgjdbc: a session that reads
 * masked columns, binds a parameter, fails, is refused, and copies in and out is listed with
 * its identity and replays in order, from the CLI (transcript and JSON) and from the admin
 * API (and its download), with the masked values the agent saw and never a protected one.
 */
class RecordingThroughGatewayTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EMAIL = "carol.private@example.com";
    private static final String SSN = "555-12-3456";

    @TempDir
    static Path dir;
    static Path configFile;
    static Path credentialFile;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        pg.sql(TestPostgres.DATABASE, """
                DROP SCHEMA IF EXISTS rec CASCADE;
                CREATE SCHEMA rec;
                CREATE TABLE rec.customers (id int PRIMARY KEY, name text, email text, ssn text);
                INSERT INTO rec.customers VALUES (1, 'Carol', '%s', '%s'), (2, 'Dave', 'dave.private@example.org', '555-98-7654'),
                  (3, 'Erin', 'erin.private@example.net', '555-11-2222');
                CREATE TABLE rec.notes (t text);
                CREATE TABLE rec.scratch (id int);
                INSERT INTO rec.scratch VALUES (1), (2);
                """.formatted(EMAIL, SSN));
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg), ApprovalFixture.deleterKeys("recording-test-keys", ""),
                ApprovalFixture.heldPolicy("""
                      - { when: { commands: [DELETE], without_where: true }, approvers: [web], timeout: 10m }
                """)).replace("policies:\n", "approvers:\n  - { type: web }\npolicies:\n").replace("""
                    allow: { commands: [ALL, DO] }   # the fidelity tests run DO blocks too
                """, """
                    allow: { commands: [ALL] }
                    deny: { commands: [TRUNCATE] }
                    mask:
                      - { column: rec.customers.email, masker: email }
                      - { column: rec.customers.ssn, masker: redact }
                """) + "recording: { enabled: true, max_rows_per_result: 2 }\n";
        assertThat(yaml).contains("rec.customers.email");
        TestGateway.ForCli cli = TestGateway.startForCli(yaml, dir, pg.password());
        gateway = cli.gateway();
        configFile = cli.configFile();
        credentialFile = cli.credentialFile();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void aSessionIsListedAndReplaysInOrderWithTheMaskedResultsTheAgentSaw() throws Exception {
        String id;
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            int pid;
            try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            id = gateway.gateway().sessions().sessions().stream().filter(x -> x.info().upstreamPid() == pid)
                    .findFirst().orElseThrow().id();
            List<String> emails = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT id, name, email, ssn FROM rec.customers ORDER BY id")) {
                while (rs.next()) {
                    emails.add(rs.getString(3));
                    assertThat(rs.getString(4)).isEqualTo("[redacted]");
                }
            }
            assertThat(emails).containsExactly("***@example.com", "***@example.org", "***@example.net");
            try (PreparedStatement p = c.prepareStatement("SELECT id FROM rec.customers WHERE name = ?")) {
                p.setString(1, "Dave");
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(2);
                }
            }
            assertThatThrownBy(() -> s.execute("SELECT 1/0")).isInstanceOf(SQLException.class).hasMessageContaining("division by zero");
            assertThatThrownBy(() -> s.execute("TRUNCATE rec.notes")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            CopyManager copy = c.unwrap(BaseConnection.class).getCopyAPI();
            assertThat(copy.copyIn("COPY rec.notes FROM STDIN", new StringReader("alpha\nbeta\ngamma\n"))).isEqualTo(3);
            StringWriter copied = new StringWriter();
            assertThat(copy.copyOut("COPY rec.notes TO STDOUT", copied)).isEqualTo(3);
        }

        JsonNode listed = awaitEnded(id, TestGateway.AGENT);
        assertThat(listed.path("identity").asText()).isEqualTo(TestGateway.AGENT);
        assertThat(listed.path("live").asBoolean()).isFalse();
        assertThat(listed.path("started").asText()).isNotEmpty();

        CommandLineForTests.Result replay = CommandLineForTests.run("replay", id, "--config", configFile.toString(), "--no-wait");
        assertThat(listed.path("statements").asLong()).as(replay.out() + replay.err())
                .isEqualTo(8); // pgjdbc's SET application_name, then the test's seven
        assertThat(replay.exitCode()).as(replay.err()).isZero();
        assertThat(replay.out()).contains("=> SELECT 1/0\nERROR:  division by zero\n-- SQLSTATE 22012\n");
        String transcript = replay.out();
        assertThat(transcript)
                .contains("session " + id + " of " + TestGateway.AGENT)
                .contains("=> SELECT id, name, email, ssn FROM rec.customers ORDER BY id")
                .contains("***@example.com").contains("***@example.org").doesNotContain("***@example.net")
                .contains("[redacted]")
                .contains("(3 rows; 1 not recorded (recording.max_rows_per_result))")
                .contains("-- parameters: $1 = 'Dave'")
                .contains("ERROR:  division by zero").contains("-- SQLSTATE 22012")
                .contains("-- pgwarden: DENY").contains("-- SQLSTATE 42501")
                .contains("-- the client sent 1 COPY message(s), 17 byte(s); done").contains("COPY 3")
                .contains("alpha\nbeta\n").doesNotContain("gamma")
                .contains("-- session ended: client ended the session");
        assertThat(transcript.indexOf("1/0")).isLessThan(transcript.indexOf("22012"));
        assertThat(transcript.indexOf("22012")).isLessThan(transcript.indexOf("TRUNCATE"));

        CommandLineForTests.Result json = CommandLineForTests.run("replay", id, "--config", configFile.toString(), "--no-wait", "--json");
        assertThat(json.exitCode()).isZero();
        List<JsonNode> events = new ArrayList<>();
        for (String line : json.out().lines().toList()) {
            events.add(JSON.readTree(line));
        }
        for (int i = 0; i < events.size(); i++) {
            assertThat(events.get(i).path("n").asLong()).isEqualTo(i);
            if (i > 0) {
                assertThat(events.get(i).path("t").asLong()).isGreaterThanOrEqualTo(events.get(i - 1).path("t").asLong());
            }
        }
        assertThat(events.getFirst().path("type").asText()).isEqualTo("session_start");
        assertThat(events.getLast().path("type").asText()).isEqualTo("session_end");

        AdminCredential admin = AdminCredential.readFrom(credentialFile);
        HttpResponse<String> api = get(admin, "/api/recordings/" + id);
        assertThat(api.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(api.body());
        assertThat(body.path("intact").asBoolean()).isTrue();
        assertThat(body.path("events")).hasSize(events.size());
        assertThat(body.path("session").path("identity").asText()).isEqualTo(TestGateway.AGENT);
        HttpResponse<String> download = get(admin, "/api/recordings/" + id + "/download");
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.headers().firstValue("Content-Disposition")).hasValue("attachment; filename=\"pgwarden-session-" + id + ".json\"");
        assertThat(JSON.readTree(download.body())).isEqualTo(body);
        assertThat(get(admin, "/api/recordings/0000000000000000").statusCode()).isEqualTo(404);
        assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(admin.url().resolve("/api/recordings/" + id)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("without the credential").isEqualTo(401);

        for (String seen : List.of(transcript, json.out(), api.body())) {
            for (String secret : List.of(EMAIL, "carol.private", SSN, "555-98-7654", "dave.private", "erin.private")) {
                assertThat(seen).doesNotContain(secret);
            }
        }
    }

    @Test
    void aHeldStatementIsRecordedWithItsHoldItsApprovalAndItsResult() throws Exception {
        String id;
        try (Connection c = ApprovalFixture.deleter(gateway); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            id = gateway.gateway().sessions().byIdentity(ApprovalFixture.DELETER).getFirst().id();
            var deleted = ApprovalFixture.inBackground(() -> s.executeUpdate("DELETE FROM rec.scratch"));
            var request = awaitPendingRequest("DELETE FROM rec.scratch");
            gateway.gateway().approvals().decide(request.id(), true, "alice", "web", "cleanup ticket 7");
            assertThat(deleted.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(2);
        }
        awaitEnded(id, ApprovalFixture.DELETER);
        CommandLineForTests.Result replay = CommandLineForTests.run("replay", id, "--config", configFile.toString(), "--no-wait");
        assertThat(replay.exitCode()).as(replay.err()).isZero();
        String request = replay.out().replaceFirst("(?s).*held for approval: request (\\S+).*", "$1");
        assertThat(replay.out())
                .contains("=> DELETE FROM rec.scratch\n-- held for approval: request " + request + "\n")
                .contains("NOTICE:  statement held for approval: request " + request)
                .contains("=> DELETE FROM rec.scratch\n-- approval request " + request + " approved by alice via web: cleanup ticket 7\nDELETE 2");
    }

    private static io.pgwarden.approval.ApprovalRecord awaitPendingRequest(String statement) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (Instant.now().isBefore(deadline)) {
            var pending = gateway.gateway().approvals().list(false).stream()
                    .filter(a -> a.request().statement().equals(statement)).toList();
            if (!pending.isEmpty()) {
                return pending.getFirst();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no approval request for " + statement);
    }

    @Test
    void aLiveSessionIsListedAsLiveWithItsStatementsSoFar() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            CommandLineForTests.Result list = CommandLineForTests.run("sessions", "list", "--config", configFile.toString(), "--json");
            assertThat(list.exitCode()).isZero();
            List<JsonNode> live = new ArrayList<>();
            for (String line : list.out().lines().toList()) {
                JsonNode row = JSON.readTree(line);
                if (row.path("live").asBoolean()) {
                    live.add(row);
                }
            }
            assertThat(live).hasSize(1);
            assertThat(live.getFirst().path("ended").isNull()).isTrue();
            assertThat(live.getFirst().path("statements").asLong()).isGreaterThanOrEqualTo(1);
            assertThat(live.getFirst().path("upstream_pid").asInt()).isPositive();

            CommandLineForTests.Result table = CommandLineForTests.run("sessions", "list", "--config", configFile.toString());
            assertThat(table.out()).contains("STATEMENTS").contains(" live ");
        }
    }

    @Test
    void aStoppedGatewaysRecordingReplaysFromItsStoreAndATamperedOneIsReportedBroken() throws Exception {
        Path stoppedDir = Files.createDirectories(dir.resolve("stopped"));
        String yaml = Files.readString(configFile)
                .replace(credentialFile.toString(), stoppedDir.resolve("admin-credential.json").toString())
                .replaceFirst("url: \"[^\"]+\"", "url: \"" + TestGateway.freshStoreUrl().replace("\\", "/") + "\"");
        String storeUrl = yaml.replaceFirst("(?s).*url: \"([^\"]+)\".*", "$1");
        yaml = yaml.replaceFirst("key_file: \"[^\"]+\"", "key_file: \"" + TestGateway.keyFile(storeUrl) + "\"");
        Path config = stoppedDir.resolve("pgwarden.yaml");
        Files.writeString(config, yaml);
        String id;
        try (TestGateway stopped = TestGateway.start(yaml, TestPostgres.shared().password())) {
            try (Connection c = stopped.connect(); Statement s = c.createStatement()) {
                s.execute("SELECT name, email FROM rec.customers WHERE id = 1");
                id = stopped.gateway().sessions().sessions().iterator().next().id();
                stopped.gateway().recorder().list(null, 1); // stores what was queued: the first chunk
                s.execute("SELECT 2");
            }
            Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
            while (stopped.gateway().recorder().list(null, 10).stream().noneMatch(r -> r.id().equals(id) && r.ended() != null)) {
                assertThat(Instant.now()).isBefore(deadline);
                Thread.sleep(50);
            }
        }
        CommandLineForTests.Result intact = CommandLineForTests.run("replay", id, "--config", config.toString(), "--no-wait");
        assertThat(intact.exitCode()).as(intact.err()).isZero();
        assertThat(intact.out()).contains("SELECT name, email FROM rec.customers WHERE id = 1").contains("***@example.com")
                .doesNotContain(EMAIL);

        try (io.pgwarden.vault.Vault vault = io.pgwarden.vault.Vault.open(TestGateway.load(yaml), System::getenv);
             Connection c = vault.store().connect(); Statement s = c.createStatement()) {
            // The chunk holding the row, rewritten: someone hiding what the agent saw.
            s.execute("UPDATE recording_chunk SET payload = (SELECT payload FROM recording_chunk WHERE session_id = '" + id
                    + "' AND chunk_no = 0) WHERE session_id = '" + id + "' AND chunk_no > 0");
        }
        CommandLineForTests.Result broken = CommandLineForTests.run("replay", id, "--config", config.toString(), "--no-wait");
        assertThat(broken.exitCode()).isEqualTo(2);
        assertThat(broken.err()).contains("the recording of session " + id + " is broken at chunk 1");
        assertThat(broken.out()).isEmpty();
    }

    @Test
    void replayOfAnUnknownSessionSaysSo() {
        CommandLineForTests.Result r = CommandLineForTests.run("replay", "feedfacefeedface", "--config", configFile.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("no recording of session feedfacefeedface");
    }

    private static HttpResponse<String> get(AdminCredential admin, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(admin.url().resolve(path))
                .header("Authorization", "Bearer " + admin.token()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The session's row in `sessions list`, once its end is recorded (the client's close reaches the gateway a moment later). */
    private static JsonNode awaitEnded(String id, String identity) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (true) {
            CommandLineForTests.Result list = CommandLineForTests.run("sessions", "list", "--config", configFile.toString(),
                    "--identity", identity, "--json");
            assertThat(list.exitCode()).as(list.err()).isZero();
            for (String line : list.out().lines().toList()) {
                JsonNode row = JSON.readTree(line);
                if (row.path("id").asText().equals(id) && !row.path("ended").isNull()) {
                    return row;
                }
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("session " + id + " was not listed as ended: " + list.out());
            }
            Thread.sleep(100);
        }
    }
}
