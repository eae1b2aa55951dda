package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.slf4j.LoggerFactory;

/**
 * Two issuers of a real OIDC provider, each behind its own {@code oidc} authenticator, next
 * to static keys: pgjdbc sends the token as its password; the token's issuer picks the
 * authenticator and its groups pick the policy. Everything the gateway logs is captured and
 * searched for the tokens.
 */
class OidcThroughGatewayTest {
    private static final String AUDIENCE = "pgwarden";
    private static LocalPostgres pg;
    private static MockOAuth2Server idp;
    private static TestGateway gateway;
    private static final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private static final List<String> tokensUsed = new ArrayList<>();
    private static Logger pgwardenLogger;
    private static Level previousLevel;

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
        idp = new MockOAuth2Server();
        idp.start();
        pgwardenLogger = (Logger) LoggerFactory.getLogger("io.pgwarden");
        previousLevel = pgwardenLogger.getLevel();
        pgwardenLogger.setLevel(Level.DEBUG);
        log.start();
        pgwardenLogger.addAppender(log);
        String authenticators = """
                  - { type: oidc, name: corp, issuer: "%s", audience: %s, http_timeout: 30s }
                  - { type: oidc, name: ci, issuer: "%s", audience: [other, %s], groups_claim: scope, http_timeout: 30s }
                """.formatted(idp.issuerUrl("corp"), AUDIENCE, idp.issuerUrl("ci"), AUDIENCE);
        String policies = """
                  - name: batch-jobs
                    match: { groups: [batch] }
                    upstream: app
                """;
        TestGateway.Settings settings = TestGateway.Settings.defaults(pg);
        gateway = TestGateway.start(TestGateway.yaml(pg, settings, authenticators, policies), settings.upstreamPassword());
    }

    @AfterAll
    static void stop() {
        try {
            gateway.close();
            idp.shutdown();
        } finally {
            pgwardenLogger.detachAppender(log);
            pgwardenLogger.setLevel(previousLevel);
        }
    }

    private static String token(String issuerId, String subject, Map<String, Object> claims, long expirySeconds) {
        String token = idp.issueToken(issuerId, "client-1", new DefaultOAuth2TokenCallback(issuerId, subject, "JWT",
                List.of(AUDIENCE), claims, expirySeconds)).serialize();
        synchronized (tokensUsed) {
            tokensUsed.add(token);
        }
        return token;
    }

    private static Connection connect(String token) throws Exception {
        // The user name is informational: the identity comes from the token alone.
        return gateway.connect(Map.of("user", "informational-user", "password", token));
    }

    private static List<String> logLines() {
        // AppenderBase.doAppend adds under the appender's own lock, not the list's.
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Test
    void aTokenOfIssuerAWithGroupTestersIsAdmittedByTheTestersPolicy() throws Exception {
        try (Connection c = connect(token("corp", "reporting-agent", Map.of("groups", List.of("testers")), 300));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isPositive();
        }
        assertThat(logLines()).anySatisfy(line -> assertThat(line)
                .contains("identity reporting-agent (" + idp.issuerUrl("corp")).contains("admitted by policy testers"));
    }

    @Test
    void aSessionEndsWhenItsTokenExpires() throws Exception {
        // session.max_lifetime defaults to "token": the session lives as long as its credential. 8 s: a
        // loaded machine once took over 3 s to log in and run the first query, past a 3 s token.
        try (Connection c = connect(token("corp", "short-lived-agent", Map.of("groups", List.of("testers")), 8));
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            PSQLException ended = TestGateway.awaitSessionEnd(s);
            assertThat(ended.getSQLState()).isEqualTo("28000");
            assertThat(ended.getMessage()).contains("the token it was opened with expired at");
        }
    }

    @Test
    void aTokenOfIssuerBLandsOnItsOwnPolicy() throws Exception {
        try (Connection c = connect(token("ci", "nightly-loader", Map.of("scope", "openid batch"), 300));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
        assertThat(logLines()).anySatisfy(line -> assertThat(line)
                .contains("identity nightly-loader (" + idp.issuerUrl("ci")).contains("admitted by policy batch-jobs"));
    }

    @Test
    void anExpiredTokenIsRefusedWith28P01AndTheReasonIsLoggedWithoutTheToken() throws Exception {
        String expired = token("corp", "late-agent", Map.of("groups", List.of("testers")), -120);
        // The agent's operator learns what was wrong (issue 3: "expired"), never the token; the
        // other issuer's "not configured here" does not crowd it out.
        assertThatThrownBy(() -> connect(expired).close())
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28P01");
                    assertThat(e.getServerErrorMessage().getDetail()).isEqualTo("The token has expired.");
                });

        assertThat(logLines()).anySatisfy(line -> assertThat(line)
                .contains("authentication failed").contains("expired: exp is in the past")
                .contains("issuer \"" + idp.issuerUrl("corp") + "\" not configured here"));
    }

    @Test
    void aTokenOfAnUnconfiguredIssuerIsRefused() {
        String stranger = token("stranger", "someone", Map.of("groups", List.of("testers")), 300);
        assertThatThrownBy(() -> connect(stranger).close())
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28P01");
                    assertThat(e.getServerErrorMessage().getDetail()).isNull();
                });
    }

    @Test
    void staticKeysStillWorkNextToTheOidcAuthenticators() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    /**
     * After every test: not one captured log line (DEBUG and up, every io.pgwarden logger)
     * carries any part of any token sent, while the refusal reasons above were logged.
     */
    @AfterAll
    static void noPartOfAnyTokenWasLogged() {
        List<String> lines = logLines();
        assertThat(lines).isNotEmpty();
        synchronized (tokensUsed) {
            assertThat(tokensUsed).isNotEmpty();
            for (String token : tokensUsed) {
                for (String part : token.split("\\.")) {
                    for (String line : lines) {
                        assertThat(line).doesNotContain(part).doesNotContain(part.substring(0, 12));
                    }
                }
            }
        }
    }
}
