package io.pgwarden.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.cli.CommandLineForTests;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

/**
 * The admin API's session endpoints and {@code pgwarden sessions list|kill}, against a
 * running gateway with real pgjdbc sessions of two identities.
 */
class SessionsAdminTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static Path configFile;
    static Path credentialFile;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        TestGateway.ForCli cli = TestGateway.startForCli(TestGateway.yaml(pg, TestGateway.Settings.defaults(pg), "",
                "  - { name: outsiders, match: { groups: [nobody] }, upstream: app }"), dir, pg.password());
        gateway = cli.gateway();
        configFile = cli.configFile();
        credentialFile = cli.credentialFile();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void theCredentialFileIsReadableByItsOwnerOnly() throws Exception {
        assertThat(Files.getPosixFilePermissions(credentialFile))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(AdminCredential.readFrom(credentialFile).url()).isEqualTo(gateway.gateway().adminUrl());
    }

    @Test
    void theApiRefusesRequestsWithoutTheCredential() throws Exception {
        URI sessions = gateway.gateway().adminUrl().resolve("/api/sessions");
        HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(sessions).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(sessions).header("Authorization", "Bearer nope").build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> kill = HTTP.send(HttpRequest.newBuilder(gateway.gateway().adminUrl().resolve("/api/sessions/kill?identity=x"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(kill.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(wrong.body()).path("error").asText()).isEqualTo("the credential is not valid");
        assertThat(wrong.body()).doesNotContain("test-agent");

        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(gateway.gateway().adminUrl().resolve("/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    }

    @Test
    void killByIdentityEndsEverySessionOfThatIdentityAndNoOther() throws Exception {
        try (Connection agent1 = gateway.connect(); Connection agent2 = gateway.connect();
             Connection outsider = gateway.connect(Map.of("user", "outsider", "password", "outsider-key"));
             Statement s1 = agent1.createStatement(); Statement s2 = agent2.createStatement();
             Statement so = outsider.createStatement()) {
            assertThat(selectOne(s1)).isEqualTo(1);
            assertThat(selectOne(so)).isEqualTo(1);

            CommandLineForTests.Result list = CommandLineForTests.run("sessions", "list", "--config", configFile.toString(),
                    "--identity", TestGateway.AGENT, "--json");
            assertThat(list.exitCode()).isZero();
            assertThat(list.out().lines()).hasSize(2);
            JsonNode first = JSON.readTree(list.out().lines().findFirst().orElseThrow());
            assertThat(first.path("identity").asText()).isEqualTo(TestGateway.AGENT);
            assertThat(first.path("policy").asText()).isEqualTo("testers");
            assertThat(first.path("client").asText()).isEqualTo("127.0.0.1");

            CommandLineForTests.Result kill = CommandLineForTests.run("sessions", "kill", "--config", configFile.toString(),
                    "--identity", TestGateway.AGENT);
            assertThat(kill.exitCode()).isZero();
            assertThat(kill.out().lines().filter(l -> l.startsWith("ended session "))).hasSize(2);

            for (Statement killed : new Statement[] {s1, s2}) {
                PSQLException ended = TestGateway.awaitSessionEnd(killed);
                assertThat(ended.getSQLState()).isEqualTo("57P01");
                assertThat(ended.getMessage()).contains("terminating connection due to administrator command");
            }
            assertThat(selectOne(so)).as("another identity's session goes on").isEqualTo(1);
        }
    }

    @Test
    void killByIdEndsThatSessionAndAnUnknownIdIsAnError() throws Exception {
        try (Connection a = gateway.connect(); Connection b = gateway.connect();
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            int pidA = backendPid(sa);
            String idA = gateway.gateway().sessions().sessions().stream()
                    .filter(s -> s.info().identity().equals(TestGateway.AGENT))
                    .filter(s -> s.info().upstreamPid() == pidA)
                    .findFirst().orElseThrow().id();

            CommandLineForTests.Result kill = CommandLineForTests.run("sessions", "kill", idA, "--config", configFile.toString());
            assertThat(kill.exitCode()).isZero();
            assertThat(TestGateway.awaitSessionEnd(sa).getSQLState()).isEqualTo("57P01");
            assertThat(selectOne(sb)).isEqualTo(1);

            CommandLineForTests.Result unknown = CommandLineForTests.run("sessions", "kill", "0123456789abcdef",
                    "--config", configFile.toString());
            assertThat(unknown.exitCode()).isEqualTo(1);
            assertThat(unknown.err()).contains("no live session 0123456789abcdef");
        }
    }

    @Test
    void theCliSaysPlainlyWhenNoGatewayRunsWithThatConfiguration() throws Exception {
        Path other = dir.resolve("stopped.yaml");
        Files.writeString(other, Files.readString(configFile).replace(credentialFile.toString(),
                dir.resolve("nowhere/admin-credential.json").toString()));
        CommandLineForTests.Result result = CommandLineForTests.run("sessions", "list", "--config", other.toString());
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).contains("no admin credential at").contains("is the gateway running");
    }

    private static int selectOne(Statement s) throws Exception {
        try (ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int backendPid(Statement s) throws Exception {
        try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
