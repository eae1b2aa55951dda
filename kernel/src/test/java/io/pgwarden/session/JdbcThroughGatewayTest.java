package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;

/** pgjdbc through the gateway must behave exactly as it does against PostgreSQL directly. */
class JdbcThroughGatewayTest {
    private static LocalPostgres pg;
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        pg = TestPostgres.shared();
        gateway = TestGateway.start(pg);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void extendedProtocolWithServerPreparedStatementsAndBinaryTransfer() throws Exception {
        try (Connection c = gateway.connect(Map.of("prepareThreshold", "1", "binaryTransfer", "true"));
             PreparedStatement ps = c.prepareStatement("SELECT id, name, price, now() FROM items WHERE id = ?")) {
            for (int i = 1; i <= 20; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(i);
                    assertThat(rs.getString(2)).isEqualTo("item " + i);
                    assertThat(rs.getBigDecimal(3)).isEqualByComparingTo(Double.toString(i * 1.5));
                    assertThat(rs.getTimestamp(4)).isNotNull();
                }
            }
            assertThat(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare()).isTrue();
        }
    }

    @Test
    void batchesAndTransactionsCommitAndRollBack() throws Exception {
        try (Connection c = gateway.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE batch_t (id int PRIMARY KEY, v text)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_t VALUES (?, ?)")) {
                for (int i = 0; i < 500; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "v" + i);
                    ps.addBatch();
                }
                assertThat(ps.executeBatch()).hasSize(500);
            }
            c.commit();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_t VALUES (?, 'gone')")) {
                ps.setInt(1, 1000);
                ps.executeUpdate();
            }
            c.rollback();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*), max(id) FROM batch_t")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(500);
                assertThat(rs.getInt(2)).isEqualTo(499);
            }
        }
    }

    @Test
    void errorsKeepTheirSqlStateAndTheSessionSurvives() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT 1/0"))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22012"));
            assertThatThrownBy(() -> s.executeQuery("SELECT * FROM no_such_table"))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P01"));
            c.setAutoCommit(false);
            assertThatThrownBy(() -> s.executeQuery("SELECT 1/0")).isInstanceOf(PSQLException.class);
            assertThatThrownBy(() -> s.executeQuery("SELECT 1"))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
            c.rollback();
            c.setAutoCommit(true);
            try (ResultSet rs = s.executeQuery("SELECT 42")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
    }

    @Test
    void copyInAndOutThroughCopyManager() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE copy_t (id int, label text)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            StringBuilder csv = new StringBuilder();
            for (int i = 0; i < 10_000; i++) {
                csv.append(i).append(",label ").append(i).append('\n');
            }
            long in = copy.copyIn("COPY copy_t FROM STDIN (FORMAT csv)",
                    new ByteArrayInputStream(csv.toString().getBytes(StandardCharsets.UTF_8)));
            assertThat(in).isEqualTo(10_000);
            StringWriter out = new StringWriter();
            long outRows = copy.copyOut("COPY (SELECT * FROM copy_t ORDER BY id) TO STDOUT (FORMAT csv)", out);
            assertThat(outRows).isEqualTo(10_000);
            assertThat(out.toString()).isEqualTo(csv.toString());
            // A failing COPY FROM reports its error and leaves the session usable.
            assertThatThrownBy(() -> copy.copyIn("COPY copy_t FROM STDIN (FORMAT csv)",
                    new ByteArrayInputStream("x,y\n".getBytes(StandardCharsets.UTF_8))))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22P02"));
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM copy_t")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(10_000);
            }
        }
    }

    @Test
    void statementCancelReachesTheUpstreamThroughTheGatewaysOwnKey() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            CompletableFuture<Void> cancel = CompletableFuture.runAsync(() -> {
                try {
                    TestPostgres.awaitActiveQuery(pg, "pg_sleep(30)");
                    s.cancel();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            long started = System.nanoTime();
            assertThatThrownBy(() -> s.execute("SELECT pg_sleep(30)"))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
            cancel.get(10, TimeUnit.SECONDS);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void listenNotifyDeliversAsynchronousNotifications() throws Exception {
        try (Connection listener = gateway.connect(); Connection notifier = gateway.connect();
             Statement ls = listener.createStatement(); Statement ns = notifier.createStatement()) {
            ls.execute("LISTEN pgwarden_test");
            ns.execute("NOTIFY pgwarden_test, 'hello through the gateway'");
            PGNotification[] received = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(received).isNotNull().hasSize(1);
            assertThat(received[0].getName()).isEqualTo("pgwarden_test");
            assertThat(received[0].getParameter()).isEqualTo("hello through the gateway");
        }
    }

    @Test
    void aMillionRowResultStreamsWithAFetchSize() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.setFetchSize(5_000);
            long count = 0;
            long sum = 0;
            try (ResultSet rs = s.executeQuery("SELECT g, repeat('x', 50) FROM generate_series(1, 1000000) g")) {
                while (rs.next()) {
                    count++;
                    sum += rs.getLong(1);
                    assertThat(rs.getString(2)).hasSize(50);
                }
            }
            c.commit();
            assertThat(count).isEqualTo(1_000_000);
            assertThat(sum).isEqualTo(500_000_500_000L);
        }
    }

    @Test
    void parameterStatusAndSessionSettingsPassThrough() throws Exception {
        try (Connection c = gateway.connect(Map.of("ApplicationName", "jdbc-through-gateway", "options", "-c search_path=public"));
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT current_setting('application_name'), current_setting('search_path')")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("jdbc-through-gateway");
                assertThat(rs.getString(2)).isEqualTo("public");
            }
            s.execute("SET TimeZone = 'Asia/Tokyo'");
            // pgjdbc learns the new value only from the ParameterStatus the server sends.
            assertThat(c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().getParameterStatus("TimeZone"))
                    .isEqualTo("Asia/Tokyo");
        }
    }

    @Test
    void anIdentityWithoutAPolicyAndAWrongKeyAreRefused() {
        assertThatThrownBy(() -> gateway.connect(Map.of("user", "outsider", "password", "outsider-key")))
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28000");
                    assertThat(e.getMessage()).contains("no policy admits identity \"outsider\"");
                });
        assertThatThrownBy(() -> gateway.connect(Map.of("password", "not-the-key")))
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28P01");
                    // A guessed key learns nothing about why it failed.
                    assertThat(e.getServerErrorMessage().getDetail()).isNull();
                });
    }

    @Test
    void roleChangingStartupParametersAreRefused() {
        assertThatThrownBy(() -> gateway.connect(Map.of("options", "-c role=pg_read_server_files")))
                .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
    }

    @Test
    void theClientsBackendPidMatchesPgBackendPidAndItsOwnNotifications() throws Exception {
        // Regression: the gateway first invented a process id, so pg_backend_pid() and the pid
        // in a NotificationResponse disagreed with PQbackendPID and clients could not skip
        // their own notifications. The secret is still the gateway's own.
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            int clientSeen = c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().getBackendPID();
            try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(clientSeen);
            }
            s.execute("LISTEN self_test");
            s.execute("NOTIFY self_test, 'mine'");
            PGNotification[] received = c.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(received).hasSize(1);
            assertThat(received[0].getPID()).isEqualTo(clientSeen);
        }
    }
}
