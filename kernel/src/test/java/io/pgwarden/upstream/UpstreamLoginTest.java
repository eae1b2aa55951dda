package io.pgwarden.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.server.Gateway;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.util.PSQLException;

/**
 * The gateway logs in to the upstream with each password method PostgreSQL offers (the
 * shared server's pg_hba.conf picks the method per role), and a failed login reaches the
 * client as FATAL 08001 without the upstream's own words.
 */
class UpstreamLoginTest {
    private static LocalPostgres pg;

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
    }

    private static TestGateway gatewayLoggingInAs(String user, String password) {
        return TestGateway.start(pg, TestGateway.Settings.defaults(pg).upstreamLogin(user, password));
    }

    private static void assertUpstreamRole(TestGateway gateway, String role) throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, session_user, current_database()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(role);
            assertThat(rs.getString(2)).isEqualTo(role);
            assertThat(rs.getString(3)).isEqualTo(TestPostgres.DATABASE);
        }
    }

    @Test
    void scramSha256AsTheDefaultSuperuser() throws Exception {
        try (TestGateway gateway = gatewayLoggingInAs(pg.superuser(), pg.password())) {
            assertUpstreamRole(gateway, pg.superuser());
        }
    }

    @Test
    void overTheServersUnixSocketWhenTheHostIsAFolder() throws Exception {
        try (TestGateway gateway = TestGateway.start(pg, TestGateway.Settings.defaults(pg).upstreamTls("prefer", "")
                .upstreamHost(pg.socketDirectory().toString()));
             Connection c = gateway.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT inet_server_addr() IS NULL, current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as("the session is on a Unix socket, where inet_server_addr() is null").isTrue();
            assertThat(rs.getString(2)).isEqualTo(pg.superuser());
        }
    }

    @Test
    void md5() throws Exception {
        try (TestGateway gateway = gatewayLoggingInAs(TestPostgres.MD5_USER, TestPostgres.ROLE_PASSWORD)) {
            assertUpstreamRole(gateway, TestPostgres.MD5_USER);
        }
    }

    @Test
    void cleartextPassword() throws Exception {
        try (TestGateway gateway = gatewayLoggingInAs(TestPostgres.CLEARTEXT_USER, TestPostgres.ROLE_PASSWORD)) {
            assertUpstreamRole(gateway, TestPostgres.CLEARTEXT_USER);
        }
    }

    @Test
    void trust() throws Exception {
        // password_env must name a value even when the server never asks for it.
        try (TestGateway gateway = gatewayLoggingInAs(TestPostgres.TRUST_USER, "never-asked-for")) {
            assertUpstreamRole(gateway, TestPostgres.TRUST_USER);
        }
    }

    @ParameterizedTest(name = "wrong upstream password for {0}")
    @ValueSource(strings = {"pgwarden_admin", TestPostgres.MD5_USER, TestPostgres.CLEARTEXT_USER})
    void aWrongUpstreamPasswordGivesTheClient08001WithoutTheUpstreamsText(String user) {
        String role = user.equals("pgwarden_admin") ? pg.superuser() : user;
        try (TestGateway gateway = gatewayLoggingInAs(role, "wrong-password-" + role)) {
            assertThatThrownBy(gateway::connect).isInstanceOfSatisfying(PSQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08001");
                assertThat(e.getServerErrorMessage()).isNotNull();
                assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
                assertThat(e.getServerErrorMessage().getMessage()).isEqualTo("could not connect to upstream \"app\"");
                assertNothingFromTheUpstreamLeaks(e, role);
            });
        }
    }

    @Test
    void anUpstreamPortWithNothingListeningGives08001Promptly() throws Exception {
        int closedPort = LocalPostgres.freePort();
        // A long login deadline, so that "promptly" cannot be the deadline firing.
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg).upstreamTls("disable", "connect_timeout: 60s"));
        String upstreamPort = "    port: " + pg.port() + "\n";
        assertThat(yaml).contains(upstreamPort);
        try (Gateway gateway = Gateway.start(TestGateway.load(yaml.replace(upstreamPort, "    port: " + closedPort + "\n")),
                name -> pg.password())) {
            Properties p = new Properties();
            p.setProperty("user", TestGateway.AGENT);
            p.setProperty("password", TestGateway.AGENT_KEY);
            p.setProperty("sslmode", "disable");
            p.setProperty("connectTimeout", "30");
            p.setProperty("socketTimeout", "30");
            long started = System.nanoTime();
            assertThatThrownBy(() -> DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + gateway.port() + "/" + TestPostgres.DATABASE, p))
                    .isInstanceOfSatisfying(PSQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("08001");
                        assertThat(e.getServerErrorMessage()).isNotNull();
                        assertThat(e.getServerErrorMessage().getMessage()).isEqualTo("could not connect to upstream \"app\"");
                        // The operator's log names host and port; the client does not learn them.
                        assertThat(e.getMessage()).doesNotContain(Integer.toString(closedPort), "Connection refused");
                    });
            // A refused TCP connect is answered at once, not after the 60s login deadline; the
            // bound is generous for a loaded machine.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
        }
    }

    static void assertNothingFromTheUpstreamLeaks(PSQLException e, String upstreamRole) {
        String everything = e.getMessage() + " " + e.getServerErrorMessage().getDetail() + " " + e.getServerErrorMessage().getHint();
        assertThat(everything)
                .doesNotContain("password authentication failed for user \"" + upstreamRole + "\"")
                .doesNotContain("\"" + upstreamRole + "\"")
                .doesNotContain("28P01")
                .doesNotContainIgnoringCase("scram");
    }
}
