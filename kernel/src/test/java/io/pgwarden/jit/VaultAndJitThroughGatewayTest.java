package io.pgwarden.jit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.audit.AuditReader;
import io.pgwarden.cli.CommandLineForTests;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import io.pgwarden.vault.Vault;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vault and just-in-time roles end to end, against a PostgreSQL of their own: the
 * gateway logs in with a password it keeps only in its encrypted store, each session runs
 * as a role made for it with the grant roles' privileges and nothing more, and the role is
 * gone after the session, after a crash too.
 */
class VaultAndJitThroughGatewayTest {
    private static final String GATEWAY_ROLE = "pgw_gateway";
    /** Recognisable bytes: the scans below look for them in every file the gateway wrote. */
    private static final String GATEWAY_PASSWORD = "gw-Secret-" + HexFormat.of().toHexDigits(System.nanoTime());
    private static final String PREFIX = "pgwt_";
    private static LocalPostgres pg;

    @TempDir
    Path dir;
    private Path config;
    private Path storeDir;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = TestPostgres.startPrivate(java.util.Map.of());
        // The gateway's role as docs/vault-and-jit.md tells an operator to make it.
        pg.sql(TestPostgres.DATABASE, """
                CREATE ROLE analytics_ro NOLOGIN;
                GRANT SELECT ON items TO analytics_ro;
                CREATE ROLE writer NOLOGIN;
                GRANT SELECT, INSERT ON items TO writer;
                CREATE ROLE %1$s LOGIN CREATEROLE PASSWORD '%2$s';
                GRANT analytics_ro, writer TO %1$s WITH ADMIN OPTION;
                GRANT pg_signal_backend TO %1$s;
                """.formatted(GATEWAY_ROLE, GATEWAY_PASSWORD));
    }

    @AfterAll
    static void stopPostgres() {
        pg.close();
    }

    /** Every line the gateway logs during a test, at every level, to be scanned for the password. */
    private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
            new ch.qos.logback.core.read.ListAppender<>();
    private ch.qos.logback.classic.Logger pgwardenLogger;
    private ch.qos.logback.classic.Level previousLevel;

    @BeforeEach
    void captureLog() {
        pgwardenLogger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.pgwarden");
        previousLevel = pgwardenLogger.getLevel();
        pgwardenLogger.setLevel(ch.qos.logback.classic.Level.DEBUG);
        log.start();
        pgwardenLogger.addAppender(log);
    }

    @org.junit.jupiter.api.AfterEach
    void releaseLog() {
        pgwardenLogger.detachAppender(log);
        pgwardenLogger.setLevel(previousLevel);
    }

    private List<String> logLines() {
        // AppenderBase.doAppend adds under the appender's own lock, not the list's.
        synchronized (log) {
            return log.list.stream().map(e -> e.getFormattedMessage()
                    + (e.getThrowableProxy() != null ? " " + e.getThrowableProxy().getMessage() : "")).toList();
        }
    }

    @BeforeEach
    void writeConfig() throws Exception {
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg).upstreamTls("disable",
                        "jit: { enabled: true, role_ttl: 10m, grant_roles: [analytics_ro], role_prefix: " + PREFIX + " }"),
                "", """
                          - name: writers
                            match: { names: [outsider] }
                            upstream: app
                            grant_roles: [writer]
                        """)
                .replace("credential: { user: " + pg.superuser() + ", password_env: TEST_UPSTREAM_PASSWORD }",
                        "credential: { user: " + GATEWAY_ROLE + ", password_ref: \"vault:app-gateway\" }");
        assertThat(yaml).contains("vault:app-gateway").doesNotContain(GATEWAY_PASSWORD);
        String store = yaml.replaceAll("(?s).*store: \\{ url: \"([^\"]*)\" \\}.*", "$1");
        storeDir = Path.of(store.substring("jdbc:h2:file:".length())).getParent();
        config = dir.resolve("pgwarden.yaml");
        Files.writeString(config, "admin: { port: 0, credential_file: \"" + dir.resolve("admin-credential.json") + "\" }\n" + yaml);
    }

    @Test
    void aSessionRunsAsAnExpiringRoleThatHasOnlyItsGrantRolesAndIsDroppedAtDisconnect() throws Exception {
        putGatewayPassword();
        String role;
        try (Gateway gateway = start(); Connection c = connect(gateway, TestGateway.AGENT, TestGateway.AGENT_KEY);
             Statement s = c.createStatement()) {
            role = single(s, "SELECT current_user");
            assertThat(role).matches(PREFIX + "[0-9a-f]{16}");
            try (Connection direct = superuser(); Statement d = direct.createStatement();
                 ResultSet rs = d.executeQuery("SELECT rolvaliduntil, rolcanlogin, rolsuper, rolcreaterole, rolconnlimit, "
                         + "pg_has_role('" + role + "', 'analytics_ro', 'USAGE'), pg_has_role('" + role + "', 'writer', 'USAGE') "
                         + "FROM pg_roles WHERE rolname = '" + role + "'")) {
                assertThat(rs.next()).as("the role exists while the session is open").isTrue();
                Instant validUntil = rs.getObject(1, OffsetDateTime.class).toInstant();
                assertThat(validUntil).isAfter(Instant.now()).isBefore(Instant.now().plusSeconds(11 * 60));
                assertThat(rs.getBoolean(2)).isTrue();
                assertThat(rs.getBoolean(3)).isFalse();
                assertThat(rs.getBoolean(4)).isFalse();
                assertThat(rs.getInt(5)).isEqualTo(1);
                assertThat(rs.getBoolean(6)).as("member of the upstream's grant role").isTrue();
                assertThat(rs.getBoolean(7)).as("not of any other").isFalse();
            }
            assertThat(single(s, "SELECT count(*) >= 100 FROM items")).isEqualTo("t");
            // The policy allows ALL; the database, as the session's role, does not.
            assertThatThrownBy(() -> s.execute("INSERT INTO items VALUES (1000, 'x', 1)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table items");
            assertThatThrownBy(() -> s.execute("CREATE TABLE public.made_by_agent (x int)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for schema public");
        }
        awaitRoleGone(role);
        assertNoSecretAnywhere();
        assertThat(logLines()).anyMatch(l -> l.contains("created role " + role)).anyMatch(l -> l.contains("dropped role " + role));
    }

    @Test
    void aPolicysOwnGrantRolesReplaceTheUpstreams() throws Exception {
        putGatewayPassword();
        String role;
        try (Gateway gateway = start(); Connection c = connect(gateway, "outsider", "outsider-key"); Statement s = c.createStatement()) {
            role = single(s, "SELECT current_user");
            assertThat(single(s, "SELECT pg_has_role(current_user, 'writer', 'USAGE')::text")).isEqualTo("true");
            assertThat(single(s, "SELECT pg_has_role(current_user, 'analytics_ro', 'USAGE')::text")).isEqualTo("false");
            s.execute("INSERT INTO items VALUES (5000, 'written by a jit role', 1)");
            assertThatThrownBy(() -> s.execute("DELETE FROM items WHERE id = 5000"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table items");
        }
        awaitRoleGone(role);
    }

    @Test
    void rolesLeftByAGatewayKilledWithSigkillAreSweptAtTheNextStart() throws Exception {
        putGatewayPassword();
        int port = LocalPostgres.freePort();
        Files.writeString(config, Files.readString(config).replace("listen: { host: 127.0.0.1, port: 0,",
                "listen: { host: 127.0.0.1, port: " + port + ","));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.pgwarden.cli.Main", "run",
                "--config", config.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile()).start();
        String role;
        try {
            Connection c = awaitConnection(port, process);
            try (Statement s = c.createStatement()) {
                role = single(s, "SELECT current_user");
            }
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            c.close();
        } finally {
            process.destroyForcibly();
        }
        assertThat(roleExists(role)).as("a killed gateway cannot drop its session's role").isTrue();

        try (Gateway restarted = start()) {
            assertThat(roleExists(role)).as("swept at start, before the gateway accepts anyone").isFalse();
        }
        assertNoSecretAnywhere();
    }

    @Test
    void aWrongOrMissingMasterKeyRefusesToStartAndLosesNothing() throws Exception {
        putGatewayPassword();
        Path keyFile = TestGateway.keyFile("jdbc:h2:file:" + storeDir.resolve("pgwarden"));
        byte[] rightKey = Files.readAllBytes(keyFile);

        Files.writeString(keyFile, java.util.Base64.getEncoder().encodeToString(new byte[32]) + "\n");
        assertThatThrownBy(this::start).isInstanceOf(GatewayStartException.class)
                .hasMessageContaining("vault: the master key from vault.key_file").hasMessageContaining("is not the key that protects");

        Files.delete(keyFile);
        assertThatThrownBy(this::start).isInstanceOf(GatewayStartException.class)
                .hasMessageContaining("vault.key_file: the master key file " + keyFile + " does not exist");
        assertThat(keyFile).as("no new key was made over an existing store").doesNotExist();

        Files.write(keyFile, rightKey);
        CommandLineForTests.Result list = CommandLineForTests.run("vault", "list", "--config", config.toString());
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("app-gateway").doesNotContain(GATEWAY_PASSWORD);
        try (Gateway gateway = start(); Connection c = connect(gateway, TestGateway.AGENT, TestGateway.AGENT_KEY)) {
            assertThat(c.isValid(5)).isTrue();
        }
    }

    @Test
    void rotateKeyReplacesTheMasterKeyAndTheOldOneNoLongerOpensTheStore() throws Exception {
        putGatewayPassword();
        Path keyFile = TestGateway.keyFile("jdbc:h2:file:" + storeDir.resolve("pgwarden"));
        byte[] oldKey = Files.readAllBytes(keyFile);
        CommandLineForTests.Result rotated = CommandLineForTests.run("vault", "rotate-key", "--config", config.toString());
        assertThat(rotated.exitCode()).as(rotated.err()).isZero();
        assertThat(rotated.out()).startsWith("master key replaced; new key id ");
        assertThat(Files.readAllBytes(keyFile)).isNotEqualTo(oldKey);
        assertThat(Files.getPosixFilePermissions(keyFile)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        try (Gateway gateway = start(); Connection c = connect(gateway, TestGateway.AGENT, TestGateway.AGENT_KEY)) {
            assertThat(c.isValid(5)).isTrue();
        }
        Files.write(keyFile, oldKey);
        assertThatThrownBy(this::start).hasMessageContaining("is not the key that protects");
    }

    @Test
    void vaultCommandsStoreListAndDeleteWithoutShowingTheSecret() throws Exception {
        CommandLineForTests.Result missing = CommandLineForTests.run("check-config", "--config", config.toString());
        assertThat(missing.exitCode()).as(missing.err()).isZero();
        assertThatThrownBy(this::start).hasMessageContaining(
                "upstreams[0].credential.password_ref: the vault holds no secret named app-gateway");

        putGatewayPassword();
        CommandLineForTests.Result list = CommandLineForTests.run("vault", "list", "--config", config.toString(), "--json");
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("\"name\":\"app-gateway\"").contains("\"created\"").doesNotContain(GATEWAY_PASSWORD);

        // While the gateway runs the same commands go through its admin API (the store is locked).
        try (Gateway gateway = start()) {
            CommandLineForTests.Result put = withStdin("another\n", () -> CommandLineForTests.run("vault", "put", "other", "--config",
                    config.toString()));
            assertThat(put.exitCode()).as(put.err()).isZero();
            CommandLineForTests.Result running = CommandLineForTests.run("vault", "list", "--config", config.toString());
            assertThat(running.out()).contains("app-gateway").contains("other");
            assertThat(CommandLineForTests.run("vault", "delete", "other", "--config", config.toString()).exitCode()).isZero();
            assertThat(CommandLineForTests.run("vault", "delete", "other", "--config", config.toString()).exitCode()).isEqualTo(1);
        }
        CommandLineForTests.Result deleted = CommandLineForTests.run("vault", "delete", "app-gateway", "--config", config.toString());
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        assertThat(CommandLineForTests.run("vault", "list", "--config", config.toString()).out()).doesNotContain("app-gateway");
    }

    // ---- helpers -------------------------------------------------------------------

    private void putGatewayPassword() {
        CommandLineForTests.Result put = withStdin(GATEWAY_PASSWORD + "\n",
                () -> CommandLineForTests.run("vault", "put", "app-gateway", "--config", config.toString()));
        assertThat(put.exitCode()).as(put.err()).isZero();
        assertThat(put.out() + put.err()).doesNotContain(GATEWAY_PASSWORD);
    }

    private static CommandLineForTests.Result withStdin(String text, java.util.function.Supplier<CommandLineForTests.Result> run) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
        try {
            return run.get();
        } finally {
            System.setIn(saved);
        }
    }

    private Gateway start() throws Exception {
        return Gateway.start(ConfigLoader.load(config), name -> null);
    }

    private static Connection connect(Gateway gateway, String user, String key) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + gateway.port() + "/" + TestPostgres.DATABASE
                + "?sslmode=disable", user, key);
    }

    private static Connection awaitConnection(int port, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestPostgres.DATABASE
                        + "?sslmode=disable", TestGateway.AGENT, TestGateway.AGENT_KEY);
            } catch (SQLException e) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    throw new AssertionError("the gateway process did not start", e);
                }
                Thread.sleep(100);
            }
        }
    }

    private static Connection superuser() throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(TestPostgres.DATABASE), pg.superuser(), pg.password());
    }

    private static String single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static boolean roleExists(String role) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            return single(s, "SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'").equals("1");
        }
    }

    /** The drop runs after the session's upstream connection closed: poll for it. */
    private static void awaitRoleGone(String role) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (roleExists(role)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("role " + role + " still exists 30 s after its session ended");
            }
            Thread.sleep(50);
        }
    }

    /**
     * The gateway's password is in no file it wrote or read (configuration, store, keyring,
     * key file, journal, log) nor in any audit event; the store file is encrypted.
     */
    private void assertNoSecretAnywhere() throws Exception {
        byte[] needle = GATEWAY_PASSWORD.getBytes(StandardCharsets.UTF_8);
        List<Path> files = new ArrayList<>();
        for (Path root : List.of(dir, storeDir)) {
            try (var walk = Files.walk(root)) {
                walk.filter(Files::isRegularFile).forEach(files::add);
            }
        }
        assertThat(files).anyMatch(f -> f.getFileName().toString().endsWith(".mv.db"));
        for (Path f : files) {
            assertThat(indexOf(Files.readAllBytes(f), needle)).as("the password in %s", f).isEqualTo(-1);
            if (f.getFileName().toString().endsWith(".mv.db")) {
                assertThat(new String(Files.readAllBytes(f), 0, 10, StandardCharsets.US_ASCII)).as("%s is encrypted", f)
                        .isEqualTo("H2encrypt\n");
            }
        }
        try (Vault vault = Vault.open(ConfigLoader.load(config), name -> null)) {
            var events = new AuditReader(vault.store()).list(null, null, 100_000);
            assertThat(events).isNotEmpty();
            assertThat(events.toString()).doesNotContain(GATEWAY_PASSWORD);
        }
        assertThat(logLines()).isNotEmpty().noneMatch(l -> l.contains(GATEWAY_PASSWORD));
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
