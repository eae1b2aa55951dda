package io.pgwarden.testing;

import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;

/**
 * A gateway started in-process in front of a test PostgreSQL, on a free port, loading the
 * bundled plugins from {@code target/dist/plugins} as real PF4J jars. The agent
 * {@value #AGENT} authenticates with {@value #AGENT_KEY}.
 */
public final class TestGateway implements AutoCloseable {
    public static final String AGENT = "test-agent";
    public static final String AGENT_KEY = "pgw_test_key_0123456789";
    public static final Path PLUGINS = Path.of("target/dist/plugins").toAbsolutePath();

    private final Gateway gateway;

    private TestGateway(Gateway gateway) {
        this.gateway = gateway;
    }

    /** Everything a test may vary; the rest is a working default. */
    public record Settings(String tlsMode, String upstreamHost, String upstreamTls, String upstreamUser,
                           String upstreamPassword, String limits, String extraUpstreamKeys) {
        public static Settings defaults(LocalPostgres pg) {
            return new Settings("disable", pg.host(), "disable", pg.superuser(), pg.password(), "", "");
        }

        public Settings tls(String mode) {
            return new Settings(mode, upstreamHost, upstreamTls, upstreamUser, upstreamPassword, limits, extraUpstreamKeys);
        }

        public Settings upstreamTls(String mode, String extraKeys) {
            return new Settings(tlsMode, upstreamHost, mode, upstreamUser, upstreamPassword, limits, extraKeys);
        }

        public Settings upstreamLogin(String user, String password) {
            return new Settings(tlsMode, upstreamHost, upstreamTls, user, password, limits, extraUpstreamKeys);
        }

        /** YAML mapping body for limits, e.g. {@code "idle_timeout: 1s, max_message_size: 16KiB"}. */
        public Settings limits(String yaml) {
            return new Settings(tlsMode, upstreamHost, upstreamTls, upstreamUser, upstreamPassword, yaml, extraUpstreamKeys);
        }

        /** The upstream's host as the gateway should name it: a name, an address or a socket folder. */
        public Settings upstreamHost(String host) {
            return new Settings(tlsMode, host, upstreamTls, upstreamUser, upstreamPassword, limits, extraUpstreamKeys);
        }
    }

    public static TestGateway start(LocalPostgres pg) {
        return start(pg, Settings.defaults(pg));
    }

    public static TestGateway start(LocalPostgres pg, Settings s) {
        try {
            return new TestGateway(Gateway.start(load(yaml(pg, s)), name -> name.equals("TEST_UPSTREAM_PASSWORD") ? s.upstreamPassword() : null));
        } catch (GatewayStartException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** A gateway whose configuration is in {@code configFile} with its admin credential at {@code credentialFile}: what the CLI needs. */
    public record ForCli(TestGateway gateway, Path configFile, Path credentialFile) {
    }

    /**
     * For tests that drive the CLI: {@code yaml} with the admin credential at
     * {@code dir/data/admin-credential.json}, written to {@code dir/pgwarden.yaml} (the file
     * to pass as {@code --config}), and a gateway started from it.
     */
    public static ForCli startForCli(String yaml, Path dir, String upstreamPassword) throws java.io.IOException {
        Path credentialFile = dir.resolve("data/admin-credential.json");
        String full = "admin: { port: 0, credential_file: \"" + credentialFile + "\" }\n" + yaml;
        Path configFile = dir.resolve("pgwarden.yaml");
        java.nio.file.Files.writeString(configFile, full);
        return new ForCli(start(full, upstreamPassword), configFile, credentialFile);
    }

    /** A gateway from a configuration text of the test's own, e.g. {@link #yaml} with a key changed. */
    public static TestGateway start(String yaml, String upstreamPassword) {
        try {
            return new TestGateway(Gateway.start(load(yaml), name -> name.equals("TEST_UPSTREAM_PASSWORD") ? upstreamPassword : null));
        } catch (GatewayStartException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public static String yaml(LocalPostgres pg, Settings s) {
        String store = freshStoreUrl();
        return """
                listen: { host: 127.0.0.1, port: 0, tls: { mode: %s } }
                plugins: { dir: "%s" }
                store: { url: "%s" }
                vault: { key_file: "%s" }
                upstreams:
                  - name: app
                    host: %s
                    port: %d
                    database: %s
                    tls: %s
                    credential: { user: %s, password_env: TEST_UPSTREAM_PASSWORD }
                %s
                authenticators:
                  - type: static-keys
                    keys:
                      - { name: %s, key_sha256: "%s", groups: [testers] }
                      - { name: outsider, key_sha256: "%s", groups: [nobody] }
                policies:
                  - name: testers
                    match: { groups: [testers] }
                    upstream: app
                    allow: { commands: [ALL, DO] }   # the fidelity tests run DO blocks too
                limits: { %s }
                """.formatted(s.tlsMode(), PLUGINS, store, keyFile(store), s.upstreamHost(), pg.port(), TestPostgres.DATABASE, s.upstreamTls(), s.upstreamUser(),
                s.extraUpstreamKeys().isEmpty() ? "" : "    " + s.extraUpstreamKeys(),
                AGENT, sha256Hex(AGENT_KEY), sha256Hex("outsider-key"), s.limits());
    }

    /** The default policy's rule lines, which {@link #yamlWithPolicy} replaces. */
    private static final String DEFAULT_POLICY_RULES = """
                    allow: { commands: [ALL, DO] }   # the fidelity tests run DO blocks too
                """;

    /**
     * {@link #yaml} with the {@code testers} policy's rules (allow, deny, mask, …) replaced by
     * {@code rules}: YAML lines indented by four spaces.
     */
    public static String yamlWithPolicy(LocalPostgres pg, String rules) {
        String yaml = yaml(pg, Settings.defaults(pg));
        if (!yaml.contains(DEFAULT_POLICY_RULES)) {
            throw new IllegalStateException("the default policy's rules were not found in the test configuration");
        }
        return yaml.replace(DEFAULT_POLICY_RULES, rules);
    }

    /**
     * {@link #yaml} with more authenticators after the static keys and more policies after
     * {@code testers}; each argument is YAML list items indented by two spaces.
     */
    public static String yaml(LocalPostgres pg, Settings s, String moreAuthenticators, String morePolicies) {
        String base = yaml(pg, s);
        int policies = base.indexOf("policies:\n");
        int limits = base.indexOf("limits: {");
        return base.substring(0, policies) + moreAuthenticators.stripTrailing() + "\n"
                + base.substring(policies, limits) + morePolicies.stripTrailing() + "\n" + base.substring(limits);
    }

    /** The vault key file beside a store from {@link #freshStoreUrl}: each test gateway has its own. */
    public static Path keyFile(String storeUrl) {
        return Path.of(storeUrl.substring("jdbc:h2:file:".length())).resolveSibling("vault.key");
    }

    /**
     * A store of its own for each configuration: one H2 file admits one gateway, and the
     * tests' files stay under target/.
     */
    public static String freshStoreUrl() {
        try {
            Path dir = java.nio.file.Files.createDirectories(Path.of("target/test-stores").toAbsolutePath());
            return "jdbc:h2:file:" + java.nio.file.Files.createTempDirectory(dir, "store-").resolve("pgwarden");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Parses a test configuration. One that does not configure {@code admin} gets an admin
     * API on a free port with its credential in a fresh temporary folder, so gateways of
     * concurrent tests never share a port or a file.
     */
    public static LoadedConfig load(String yaml) {
        if (!yaml.contains("admin:")) {
            try {
                Path credential = java.nio.file.Files.createTempDirectory("pgwarden-admin-").resolve("admin-credential.json");
                credential.getParent().toFile().deleteOnExit();
                yaml = "admin: { port: 0, credential_file: \"" + credential + "\" }\n" + yaml;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        try {
            return ConfigLoader.parse(yaml, "test-config.yaml", Path.of(".").toAbsolutePath());
        } catch (ConfigException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs {@code SELECT 1} on {@code s} every 200 ms until the gateway ends the session, and
     * returns the error that said so; fails after 30 s.
     */
    public static org.postgresql.util.PSQLException awaitSessionEnd(java.sql.Statement s) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (java.sql.ResultSet rs = s.executeQuery("SELECT 1")) {
                rs.next();
                Thread.sleep(200);
            } catch (org.postgresql.util.PSQLException e) {
                return e;
            }
        }
        throw new AssertionError("the session was still open after 30 s");
    }

    public Gateway gateway() {
        return gateway;
    }

    public int port() {
        return gateway.port();
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + TestPostgres.DATABASE;
    }

    /** A pgjdbc connection as the test agent; {@code extra} adds or overrides driver properties. */
    public Connection connect(Map<String, String> extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", AGENT);
        p.setProperty("password", AGENT_KEY);
        p.setProperty("sslmode", "disable");
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "120");
        p.putAll(extra);
        return DriverManager.getConnection(jdbcUrl(), p);
    }

    public Connection connect() throws SQLException {
        return connect(Map.of());
    }

    /** libpq environment for psql and pgbench as the test agent. */
    public Map<String, String> libpqEnvironment() {
        return Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(port()), "PGDATABASE", TestPostgres.DATABASE,
                "PGUSER", AGENT, "PGPASSWORD", AGENT_KEY, "PGSSLMODE", "disable", "PGCONNECT_TIMEOUT", "10");
    }

    public void shutdown(Duration grace) {
        gateway.shutdown(grace);
    }

    @Override
    public void close() {
        gateway.close();
    }
}
