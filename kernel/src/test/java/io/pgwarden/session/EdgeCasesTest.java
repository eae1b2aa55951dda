package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import io.pgwarden.testing.RawPgClient;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What happens at the edges of a session, with a real PostgreSQL behind an in-process
 * gateway: peers that vanish or die, hostile frames, many sessions, timeouts, shutdown,
 * authentication throttling and plugin start-up failures. Every wait is a poll with a
 * generous deadline; nothing asserts a duration except "did not hang".
 */
class EdgeCasesTest {
    /** "Promptly": far above what any of this takes, far below a hang. */
    private static final Duration PROMPTLY = Duration.ofSeconds(20);
    private static LocalPostgres pg;

    @BeforeAll
    static void sharedPostgres() {
        pg = TestPostgres.shared();
    }

    // ---- helpers ------------------------------------------------------------------------

    private static void await(String what, Duration deadline, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + deadline.toSeconds() + "s: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static Connection direct(LocalPostgres server) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", server.superuser());
        p.setProperty("password", server.password());
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "60");
        return DriverManager.getConnection(server.jdbcUrl(TestPostgres.DATABASE), p);
    }

    /** Upstream backends of one test's sessions, found by the application_name the test set. */
    private static List<Integer> backends(Connection admin, String applicationName, String state) {
        try (var ps = admin.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ?"
                + (state != null ? " AND state = ?" : ""))) {
            ps.setString(1, applicationName);
            if (state != null) {
                ps.setString(2, state);
            }
            List<Integer> pids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
            return pids;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String appName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String sqlState(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SQLException e && e.getSQLState() != null) {
                return e.getSQLState();
            }
        }
        return null;
    }

    private static <T> Future<T> inBackground(Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private static Throwable failureOf(Future<?> f) throws Exception {
        try {
            f.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the client hung for " + PROMPTLY.toSeconds() + "s", e);
        }
        throw new AssertionError("expected the statement to fail");
    }

    // ---- 1. a client that vanishes mid-result --------------------------------------------

    @Test
    void clientVanishingMidResultEndsTheSessionAndItsUpstreamBackend() throws Exception {
        String app = appName("edge-vanish");
        try (TestGateway gw = TestGateway.start(pg); Connection admin = direct(pg); Connection other = gw.connect()) {
            RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY);
            raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, app);
            raw.query("SELECT g, repeat('x', 1000) FROM generate_series(1, 5000000) g");
            raw.readUntil('T');
            for (int i = 0; i < 100; i++) {
                assertThat(raw.read().type()).isEqualTo('D');
            }
            assertThat(backends(admin, app, "active")).as("the query runs upstream").hasSize(1);
            assertThat(gw.gateway().sessions().size()).isEqualTo(2);

            raw.abort();

            await("the upstream backend of the vanished client ends", Duration.ofSeconds(60),
                    () -> backends(admin, app, null).isEmpty());
            await("the gateway forgets the session", PROMPTLY, () -> gw.gateway().sessions().size() == 1);
            assertThat(selectOne(other)).isEqualTo(1);
            try (Connection fresh = gw.connect()) {
                assertThat(selectOne(fresh)).isEqualTo(1);
            }
        }
    }

    @Test
    void clientThatStopsReadingHoldsBackTheUpstreamInsteadOfBufferingTheResult() throws Exception {
        String app = appName("edge-stall");
        String seq = "edge_stall_" + app.substring(app.length() - 8);
        try (TestGateway gw = TestGateway.start(pg); Connection admin = direct(pg);
             RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            try (Statement s = admin.createStatement()) {
                s.execute("CREATE SEQUENCE " + seq);
            }
            raw.socket().setReceiveBufferSize(64 << 10);
            raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, app);
            // About 5 GB of rows, each counted by the sequence as PostgreSQL produces it; the
            // client reads the first row and then nothing.
            raw.query("SELECT nextval('" + seq + "'), repeat('x', 1000) FROM generate_series(1, 5000000) g");
            raw.readUntil('T');
            raw.read();
            long produced = -1;
            for (int i = 0; i < 10; i++) {
                await("the upstream backend waits on ClientWrite", Duration.ofSeconds(60), () -> {
                    try (var ps = admin.prepareStatement("SELECT wait_event FROM pg_stat_activity WHERE application_name = ?")) {
                        ps.setString(1, app);
                        try (ResultSet rs = ps.executeQuery()) {
                            return rs.next() && "ClientWrite".equals(rs.getString(1));
                        }
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SELECT last_value FROM " + seq)) {
                    rs.next();
                    produced = rs.getLong(1);
                }
                Thread.sleep(200); // spread the samples: a gateway that kept reading would let the count run on
            }
            System.out.println("edge-stall: rows produced while the client read one: " + produced);
            // Socket buffers and the gateway's write high-water mark hold some MB; the whole
            // result (5 GB) or even a sizeable part of it must not have left PostgreSQL.
            assertThat(produced).as("rows PostgreSQL produced while the client read one").isLessThan(50_000);
            raw.abort();
            await("the stalled session's backend ends", Duration.ofSeconds(60), () -> backends(admin, app, null).isEmpty());
        } finally {
            try (Connection admin = direct(pg); Statement s = admin.createStatement()) {
                s.execute("DROP SEQUENCE IF EXISTS " + seq);
            }
        }
    }

    // ---- 2. an upstream that dies -------------------------------------------------------

    @Test
    void upstreamKilledMidQueryOrStoppedFailsTheClientPromptly() throws Exception {
        LocalPostgres priv = TestPostgres.startPrivate(Map.of("max_connections", "20"));
        try (TestGateway gw = TestGateway.start(priv); Connection admin = direct(priv)) {
            // (a) pg_terminate_backend: PostgreSQL's own FATAL 57P01 reaches the client.
            String app = appName("edge-terminate");
            try (Connection c = gw.connect(Map.of("ApplicationName", app))) {
                Future<Boolean> sleeping = inBackground(() -> c.createStatement().execute("SELECT pg_sleep(60)"));
                await("pg_sleep runs upstream", PROMPTLY, () -> backends(admin, app, "active").size() == 1);
                int pid = backends(admin, app, "active").getFirst();
                try (Statement s = admin.createStatement()) {
                    s.execute("SELECT pg_terminate_backend(" + pid + ")");
                }
                Throwable failure = failureOf(sleeping);
                assertThat(sqlState(failure)).as(failure.toString()).isEqualTo("57P01");
            }

            // (b) kill -9 of the backend: no FATAL from PostgreSQL, so the gateway's 08006.
            String app2 = appName("edge-kill9");
            try (Connection c = gw.connect(Map.of("ApplicationName", app2))) {
                Future<Boolean> sleeping = inBackground(() -> c.createStatement().execute("SELECT pg_sleep(60)"));
                await("pg_sleep runs upstream", PROMPTLY, () -> backends(admin, app2, "active").size() == 1);
                int pid = backends(admin, app2, "active").getFirst();
                Process kill = new ProcessBuilder("kill", "-9", Integer.toString(pid)).inheritIO().start();
                assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(kill.exitValue()).isZero();
                Throwable failure = failureOf(sleeping);
                assertThat(sqlState(failure)).as(failure.toString()).isEqualTo("08006");
            }
            // The postmaster restarts every backend after a crash; wait until it serves again.
            await("PostgreSQL recovers from the crash", Duration.ofSeconds(60), () -> {
                try (Connection probe = direct(priv)) {
                    return selectOne(probe) == 1;
                } catch (SQLException e) {
                    return false;
                }
            });

            // (c) the whole server stops while a session is idle: the next use fails at once.
            try (Connection c = gw.connect(Map.of("ApplicationName", appName("edge-stop")))) {
                assertThat(selectOne(c)).isEqualTo(1);
                stopImmediately(priv);
                Future<Integer> next = inBackground(() -> selectOne(c));
                Throwable failure = failureOf(next);
                assertThat(sqlState(failure)).as(failure.toString()).isEqualTo("08006");
            }
            await("no session is left", PROMPTLY, () -> gw.gateway().sessions().size() == 0);
            // New sessions are refused with 08001, not hung.
            Throwable refused = catchThrowable(() -> gw.connect().close());
            assertThat(sqlState(refused)).as(String.valueOf(refused)).isEqualTo("08001");
        } finally {
            priv.close();
        }
    }

    private static void stopImmediately(LocalPostgres server) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(List.of(server.binDir().resolve("pg_ctl").toString(), "-D", server.dataDir().toString(),
                "-m", "immediate", "-w", "-t", "30", "stop"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
    }

    // ---- 3. malformed and oversized frames ----------------------------------------------

    @Test
    void malformedAndOversizedFramesEndOnlyTheirOwnSession() throws Exception {
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("max_message_size: 16KiB"));
             Connection bystander = gw.connect()) {
            assertThat(selectOne(bystander)).isEqualTo(1);

            try (RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
                raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, appName("edge-len2"));
                raw.sendRaw(new byte[] {'Q', 0, 0, 0, 2});
                RawPgClient.Message error = raw.read();
                assertThat(error.type()).isEqualTo('E');
                assertThat(error.severity()).isEqualTo("FATAL");
                assertThat(error.sqlState()).isEqualTo("08P01");
                assertThat(raw.closedByServer()).isTrue();
            }

            try (RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
                raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, appName("edge-huge"));
                int length = 1 << 20;
                // Only the header and the start of a 1 MiB body: the gateway must answer now,
                // not after buffering a message it will refuse anyway.
                raw.sendRaw(ByteBuffer.allocate(5 + 100).put((byte) 'Q').putInt(length).array());
                RawPgClient.Message error = raw.read();
                assertThat(error.type()).isEqualTo('E');
                assertThat(error.severity()).isEqualTo("FATAL");
                assertThat(error.sqlState()).isEqualTo("08P01");
                assertThat(error.fields().get('M')).contains("16384");
                assertThat(raw.closedByServer()).isTrue();
            }

            try (RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
                // The same before login: an oversized password message.
                raw.startup(Map.of("user", TestGateway.AGENT, "database", TestPostgres.DATABASE));
                raw.readUntil('R');
                raw.sendRaw(ByteBuffer.allocate(5).put((byte) 'p').putInt(Integer.MAX_VALUE).array());
                RawPgClient.Message error = raw.read();
                assertThat(error.sqlState()).isEqualTo("08P01");
                assertThat(raw.closedByServer()).isTrue();
            }

            assertThat(selectOne(bystander)).isEqualTo(1);
            // The limit is on what clients send; results from the upstream may be larger.
            try (Statement s = bystander.createStatement(); ResultSet rs = s.executeQuery("SELECT repeat('x', 100000)")) {
                rs.next();
                assertThat(rs.getString(1)).hasSize(100_000);
            }
            await("only the bystander's session is left", PROMPTLY, () -> gw.gateway().sessions().size() == 1);
        }
    }

    // ---- 4. many sessions ---------------------------------------------------------------

    @Test
    void fiveHundredConcurrentIdleSessions() throws Exception {
        int n = 500;
        List<Connection> connections = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (TestGateway gw = TestGateway.start(pg)) {
            try {
                List<Future<?>> opened = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    opened.add(pool.submit(() -> connections.add(gw.connect(Map.of("ApplicationName", "edge-many")))));
                }
                for (Future<?> f : opened) {
                    f.get(120, TimeUnit.SECONDS);
                }
                assertThat(connections).hasSize(n);
                assertThat(gw.gateway().sessions().size()).isEqualTo(n);
                assertThat(gw.gateway().connections()).isEqualTo(n);

                List<Future<Integer>> results = new ArrayList<>();
                for (Connection c : connections) {
                    results.add(pool.submit(() -> selectOne(c)));
                }
                for (Future<Integer> f : results) {
                    assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(1);
                }
            } finally {
                for (Connection c : connections) {
                    c.close();
                }
                pool.shutdownNow();
            }
            await("every session ends", Duration.ofSeconds(60), () -> gw.gateway().sessions().size() == 0);
            await("every connection closes", Duration.ofSeconds(60), () -> gw.gateway().connections() == 0);
            try (Connection admin = direct(pg)) {
                await("every upstream backend ends", Duration.ofSeconds(60), () -> backends(admin, "edge-many", null).isEmpty());
            }
        }
    }

    @Test
    void connectionsOverMaxConnectionsAreRefusedWith53300() throws Exception {
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("max_connections: 2"));
             Connection first = gw.connect(); Connection second = gw.connect()) {
            Throwable t = catchThrowable(() -> gw.connect().close());
            assertThat(sqlState(t)).as(String.valueOf(t)).isEqualTo("53300");
            second.close();
            await("the closed connection is counted out", PROMPTLY, () -> gw.gateway().connections() == 1);
            try (Connection third = gw.connect()) {
                assertThat(selectOne(third)).isEqualTo(1);
            }
            assertThat(selectOne(first)).isEqualTo(1);
        }
    }

    /** Query and Terminate in one write: PostgreSQL answers the query before it closes. */
    private static void queryThenTerminateInOneWrite(RawPgClient raw) throws IOException {
        byte[] body = "SELECT 'answered'\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        raw.sendRaw(ByteBuffer.allocate(5 + body.length + 5).put((byte) 'Q').putInt(4 + body.length).put(body)
                .put((byte) 'X').putInt(4).array());
        assertThat(new String(raw.readUntil('D').body(), java.nio.charset.StandardCharsets.UTF_8)).endsWith("answered");
        raw.readUntil('Z');
        assertThat(raw.closedByServer()).isTrue();
    }

    @Test
    void queryPipelinedBeforeTerminateIsAnsweredAsPostgresDoes_regression() throws Exception {
        // Directly, as a reference (trust_user logs in without a password).
        try (RawPgClient direct = RawPgClient.connect(pg.port(), PROMPTLY)) {
            direct.startup(Map.of("user", TestPostgres.TRUST_USER, "database", TestPostgres.DATABASE));
            direct.readUntil('Z');
            queryThenTerminateInOneWrite(direct);
        }
        // Through the gateway the Terminate used to close the client at once: no result.
        try (TestGateway gw = TestGateway.start(pg); RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, appName("edge-qx"));
            queryThenTerminateInOneWrite(raw);
            await("the session ends", PROMPTLY, () -> gw.gateway().connections() == 0 && gw.gateway().sessions().size() == 0);
        }
    }

    @Test
    void queryPipelinedBehindThePasswordRunsOnceTheSessionIsReady() throws Exception {
        try (TestGateway gw = TestGateway.start(pg); RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            raw.startup(Map.of("user", TestGateway.AGENT, "database", TestPostgres.DATABASE));
            raw.readUntil('R');
            // Password, a query and Terminate in one write, before AuthenticationOk.
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (String[] m : new String[][] {{"p", TestGateway.AGENT_KEY}, {"Q", "SELECT 'early'"}}) {
                byte[] body = (m[1] + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                bytes.write(m[0].charAt(0));
                bytes.writeBytes(ByteBuffer.allocate(4).putInt(4 + body.length).array());
                bytes.writeBytes(body);
            }
            bytes.writeBytes(new byte[] {'X', 0, 0, 0, 4});
            raw.sendRaw(bytes.toByteArray());
            raw.readUntil('Z');
            assertThat(new String(raw.readUntil('D').body(), java.nio.charset.StandardCharsets.UTF_8)).endsWith("early");
            raw.readUntil('Z');
            assertThat(raw.closedByServer()).as("Terminate ends the session").isTrue();
            await("the session ends", PROMPTLY, () -> gw.gateway().connections() == 0);
        }
    }

    @Test
    void upstreamThatAcceptsAndSaysNothingFailsTheLoginWith08001() throws Exception {
        try (java.net.ServerSocket blackHole = new java.net.ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
            String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg).upstreamTls("disable", "connect_timeout: 1s"))
                    .replace("    port: " + pg.port() + "\n", "    port: " + blackHole.getLocalPort() + "\n");
            assertThat(yaml).contains("port: " + blackHole.getLocalPort());
            Gateway gateway = Gateway.start(TestGateway.load(yaml), name -> pg.password());
            try {
                Future<Socket> accepted = inBackground(blackHole::accept);
                Throwable t = catchThrowable(() -> DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + gateway.port() + "/" + TestPostgres.DATABASE + "?sslmode=disable",
                        TestGateway.AGENT, TestGateway.AGENT_KEY).close());
                assertThat(sqlState(t)).as(String.valueOf(t)).isEqualTo("08001");
                // The gateway gave up on the silent upstream and closed its side too.
                try (Socket upstreamSide = accepted.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)) {
                    upstreamSide.setSoTimeout((int) PROMPTLY.toMillis());
                    java.io.InputStream in = upstreamSide.getInputStream();
                    byte[] startup = in.readNBytes(8);
                    assertThat(ByteBuffer.wrap(startup).getInt(4)).as("a StartupMessage arrived").isEqualTo(3 << 16);
                    while (in.read() >= 0) {
                        // the rest of the startup message, then EOF
                    }
                }
                await("no connection is left", PROMPTLY, () -> gateway.connections() == 0);
            } finally {
                gateway.close();
            }
        }
    }

    @Test
    void encryptionRequestsAreDeclinedAndNewerMinorVersionsNegotiated() throws Exception {
        try (TestGateway gw = TestGateway.start(pg); RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            // GSSENCRequest, then SSLRequest (TLS is off here): both answered 'N', as PostgreSQL does.
            raw.sendRaw(ByteBuffer.allocate(8).putInt(8).putInt(80877104).array());
            assertThat(raw.socket().getInputStream().read()).isEqualTo('N');
            raw.sendRaw(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array());
            assertThat(raw.socket().getInputStream().read()).isEqualTo('N');
            // Protocol 3.2 with an unknown extension: NegotiateProtocolVersion(3.0, [_pq_.x]).
            byte[] params = "user\0test-agent\0database\0app\0_pq_.x\0on\0\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            raw.sendRaw(ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt((3 << 16) | 2).put(params).array());
            RawPgClient.Message v = raw.read();
            assertThat(v.type()).isEqualTo('v');
            ByteBuffer body = ByteBuffer.wrap(v.body());
            assertThat(body.getInt()).as("newest minor version").isZero();
            assertThat(body.getInt()).as("options not recognised").isEqualTo(1);
            assertThat(new String(v.body(), 8, v.body().length - 9, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("_pq_.x");
            assertThat(raw.read().type()).isEqualTo('R');
            raw.password(TestGateway.AGENT_KEY);
            raw.readUntil('Z');
            raw.query("SHOW server_version_num");
            assertThat(raw.readUntil('D')).isNotNull();
            raw.readUntil('Z');
        }
    }

    @Test
    void unsupportedProtocolVersionIsRefusedWith0A000AsPostgresDoes_regression() throws Exception {
        // The gateway said 08P01; PostgreSQL (ProcessStartupPacket) says feature_not_supported.
        byte[] params = "user\0x\0\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // 4.0 rather than 2.0: PostgreSQL answers a 2.0 client in the old protocol's format.
        byte[] v4 = ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(4 << 16).put(params).array();
        try (RawPgClient direct = RawPgClient.connect(pg.port(), PROMPTLY)) {
            direct.sendRaw(v4);
            assertThat(direct.read().sqlState()).as("PostgreSQL itself").isEqualTo("0A000");
        }
        try (TestGateway gw = TestGateway.start(pg); RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            raw.sendRaw(v4);
            RawPgClient.Message error = raw.read();
            assertThat(error.severity()).isEqualTo("FATAL");
            assertThat(error.sqlState()).isEqualTo("0A000");
            assertThat(error.fields().get('M')).startsWith("unsupported frontend protocol 4.0");
            assertThat(raw.closedByServer()).isTrue();
        }
    }

    // ---- 5. timeouts ----------------------------------------------------------------------

    @Test
    void silentClientIsClosedAfterTheStartupTimeout() throws Exception {
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("startup_timeout: 1s"));
             RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            long start = System.nanoTime();
            RawPgClient.Message error = raw.read();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.fields().get('M')).contains("timeout");
            assertThat(raw.closedByServer()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("closed, not left hanging").isLessThan(PROMPTLY);
            await("the connection is gone", PROMPTLY, () -> gw.gateway().connections() == 0);
        }
    }

    @Test
    void startupTimeoutAlsoEndsAClientThatStopsAfterTheStartupMessage() throws Exception {
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("startup_timeout: 1s"));
             RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            raw.startup(Map.of("user", TestGateway.AGENT, "database", TestPostgres.DATABASE));
            assertThat(raw.read().type()).isEqualTo('R');
            // Never sends the password.
            assertThat(raw.read().sqlState()).isEqualTo("08P01");
            assertThat(raw.closedByServer()).isTrue();
        }
    }

    @Test
    void idleSessionIsEndedWith57P05ButARunningQueryIsNotIdle() throws Exception {
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("idle_timeout: 1s"))) {
            try (Connection busy = gw.connect()) {
                try (Statement s = busy.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_sleep(3), 7")) {
                    rs.next();
                    assertThat(rs.getInt(2)).as("a 3s query outlives a 1s idle timeout").isEqualTo(7);
                }
            }
            try (Connection idle = gw.connect()) {
                assertThat(selectOne(idle)).isEqualTo(1);
                await("the idle session is ended", PROMPTLY, () -> gw.gateway().sessions().size() == 0);
                Throwable t = catchThrowable(() -> selectOne(idle));
                assertThat(sqlState(t)).as(String.valueOf(t)).isEqualTo("57P05");
            }
        }
    }

    @Test
    void queryExecutedWithFlushButNoSyncIsNotIdle_regression() throws Exception {
        // libpq's pipeline mode may send Execute and a Flush and wait for the rows before its
        // Sync. PostgreSQL arms idle_session_timeout only after ReadyForQuery; the gateway
        // counted only Query/Sync/FunctionCall as work and cut the running query as idle.
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("idle_timeout: 1s"));
             RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, appName("edge-flush"));
            raw.send('P', "\0SELECT 5 FROM pg_sleep(2.5)\0\0\0".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            raw.send('B', new byte[] {0, 0, 0, 0, 0, 0, 0, 0});
            raw.send('E', new byte[] {0, 0, 0, 0, 0});
            raw.send('H', new byte[0]);
            assertThat(raw.read().type()).isEqualTo('1');
            assertThat(raw.read().type()).isEqualTo('2');
            RawPgClient.Message row = raw.read();
            assertThat(row.type()).as(row.toString()).isEqualTo('D');
            assertThat(raw.read().type()).isEqualTo('C');
            raw.send('S', new byte[0]);
            assertThat(raw.read().type()).isEqualTo('Z');
            // Idle now, after ReadyForQuery: the timeout applies again.
            RawPgClient.Message m = raw.read();
            assertThat(m.sqlState()).isEqualTo("57P05");
        }
    }

    @Test
    void idleTimeoutMessageReachesARawClientUnprompted() throws Exception {
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("idle_timeout: 1s"));
             RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, appName("edge-idle"));
            RawPgClient.Message m = raw.read();
            assertThat(m.type()).isEqualTo('E');
            assertThat(m.severity()).isEqualTo("FATAL");
            assertThat(m.sqlState()).isEqualTo("57P05");
            assertThat(raw.closedByServer()).isTrue();
        }
    }

    // ---- 6. graceful shutdown -------------------------------------------------------------

    @Test
    void shutdownLetsARunningQueryFinishAndRefusesNewConnections() throws Exception {
        TestGateway gw = TestGateway.start(pg);
        int port = gw.port();
        String app = appName("edge-shutdown");
        try (Connection admin = direct(pg); Connection c = gw.connect(Map.of("ApplicationName", app))) {
            Future<Integer> query = inBackground(() -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 42 FROM pg_sleep(2)")) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
            await("the query runs upstream", PROMPTLY, () -> backends(admin, app, "active").size() == 1);
            Future<Boolean> shutdown = inBackground(() -> {
                gw.shutdown(Duration.ofSeconds(10));
                return true;
            });
            await("new connections are refused", PROMPTLY, () -> {
                try {
                    new Socket("127.0.0.1", port).close();
                    return false;
                } catch (ConnectException e) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            assertThat(query.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isEqualTo(42);
            assertThat(shutdown.isDone()).as("shutdown waits while the session is open").isFalse();
            c.close();
            assertThat(shutdown.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } finally {
            gw.close();
        }
    }

    @Test
    void sessionStillOpenAfterTheGracePeriodReceives57P01() throws Exception {
        TestGateway gw = TestGateway.start(pg);
        try (RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY); Connection idle = gw.connect()) {
            raw.login(TestGateway.AGENT, TestGateway.AGENT_KEY, TestPostgres.DATABASE, appName("edge-grace"));
            Future<Boolean> shutdown = inBackground(() -> {
                gw.shutdown(Duration.ofSeconds(1));
                return true;
            });
            RawPgClient.Message m = raw.read();
            assertThat(m.type()).isEqualTo('E');
            assertThat(m.severity()).isEqualTo("FATAL");
            assertThat(m.sqlState()).isEqualTo("57P01");
            assertThat(raw.closedByServer()).isTrue();
            Throwable t = catchThrowable(() -> selectOne(idle));
            assertThat(sqlState(t)).as(String.valueOf(t)).isEqualTo("57P01");
            assertThat(shutdown.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } finally {
            gw.close();
        }
    }

    // ---- 7. authentication throttling ----------------------------------------------------

    @Test
    void failedAuthenticationIsRateLimitedPerAddress() throws Exception {
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("auth_failures_per_minute: 3"))) {
            for (int i = 0; i < 3; i++) {
                Throwable t = catchThrowable(() -> gw.connect(Map.of("password", "wrong-key")).close());
                assertThat(sqlState(t)).as(String.valueOf(t)).isEqualTo("28P01");
            }
            Throwable t = catchThrowable(() -> gw.connect().close());
            assertThat(sqlState(t)).as(String.valueOf(t)).isEqualTo("28000");
            assertThat(t).hasMessageContaining("too many failed authentication attempts");
        }
    }

    @Test
    void connectionsParkedAtThePasswordPromptDoNotEachGetAGuess_regression() throws Exception {
        // The limit was checked only at the startup message: six connections opened first and
        // then used one by one got six guesses against a limit of three.
        try (TestGateway gw = TestGateway.start(pg, TestGateway.Settings.defaults(pg).limits("auth_failures_per_minute: 3"))) {
            List<RawPgClient> parked = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY);
                    parked.add(raw);
                    raw.startup(Map.of("user", TestGateway.AGENT, "database", TestPostgres.DATABASE));
                    assertThat(raw.read().type()).isEqualTo('R');
                }
                List<String> states = new ArrayList<>();
                for (RawPgClient raw : parked) {
                    raw.password("wrong-key");
                    states.add(raw.read().sqlState());
                }
                assertThat(states).containsExactly("28P01", "28P01", "28P01", "28000", "28000", "28000");
            } finally {
                for (RawPgClient raw : parked) {
                    raw.close();
                }
            }
        }
    }

    // ---- 8. plugin start-up failures -------------------------------------------------------

    private static Path pluginsWith(Path dir, String extraFile, byte[] content) throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (Stream<Path> jars = Files.list(TestGateway.PLUGINS)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                Files.copy(jar, plugins.resolve(jar.getFileName()));
            }
        }
        if (extraFile != null) {
            Files.write(plugins.resolve(extraFile), content);
        }
        return plugins;
    }

    private static GatewayStartException startFailure(String yaml) {
        try {
            Gateway g = Gateway.start(TestGateway.load(yaml), name -> "unused");
            g.close();
        } catch (GatewayStartException e) {
            return e;
        }
        throw new AssertionError("the gateway started:\n" + yaml);
    }

    @Test
    void bogusJarInThePluginsFolderStopsTheStart(@TempDir Path dir) throws Exception {
        Path plugins = pluginsWith(dir, "broken.jar", "not a jar at all".getBytes());
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg))
                .replace(TestGateway.PLUGINS.toString(), plugins.toString());
        assertThat(startFailure(yaml)).hasMessageContaining("broken.jar");
    }

    @Test
    void unknownAuthenticatorTypeIsNamedByItsPath(@TempDir Path dir) throws Exception {
        Path plugins = pluginsWith(dir, null, null);
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg))
                .replace(TestGateway.PLUGINS.toString(), plugins.toString())
                .replace("type: static-keys", "type: nonesuch");
        assertThat(startFailure(yaml)).hasMessageContaining("authenticators[0].type").hasMessageContaining("nonesuch");
    }

    @Test
    void badKeyHashIsNamedByItsPath(@TempDir Path dir) throws Exception {
        Path plugins = pluginsWith(dir, null, null);
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg))
                .replace(TestGateway.PLUGINS.toString(), plugins.toString())
                .replace(TestGateway.sha256Hex(TestGateway.AGENT_KEY), "not-a-sha256");
        assertThat(startFailure(yaml)).hasMessageContaining("authenticators[0].keys[0].key_sha256");
    }

    // ---- 10. a password sent without waiting for the request -------------------------------

    @Test
    void passwordPipelinedBehindTheStartupMessageLogsIn_regression() throws Exception {
        // The password arrived in the same read as the startup message; the decoder handed it
        // on while the session was still in its startup state, and the client got XX000.
        try (TestGateway gw = TestGateway.start(pg); RawPgClient raw = RawPgClient.connect(gw.port(), PROMPTLY)) {
            raw.startupPipeliningPassword(Map.of("user", TestGateway.AGENT, "database", TestPostgres.DATABASE),
                    TestGateway.AGENT_KEY);
            raw.readUntil('Z');
            raw.query("SELECT 1");
            assertThat(new String(raw.readUntil('D').body(), java.nio.charset.StandardCharsets.UTF_8)).endsWith("1");
            raw.readUntil('Z');
            raw.terminate();
        }
    }

    // ---- 9. role switching through options, end to end -----------------------------------------

    @Test
    void roleHiddenInOptionsIsRefusedByTheGateway_regression() throws Exception {
        try (TestGateway gw = TestGateway.start(pg)) {
            for (String options : List.of("-c rol\\e=" + TestPostgres.TRUST_USER, "-Ecrole=" + TestPostgres.TRUST_USER)) {
                Throwable t = catchThrowable(() -> gw.connect(Map.of("options", options)).close());
                assertThat(sqlState(t)).as(options + ": " + t).isEqualTo("42501");
            }
            try (Connection c = gw.connect(Map.of("options", "-c search_path=public"));
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(pg.superuser());
            }
        }
    }
}
