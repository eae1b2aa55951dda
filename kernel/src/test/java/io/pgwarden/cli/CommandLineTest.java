package io.pgwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.server.Gateway;
import io.pgwarden.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands' exit statuses and messages, as an operator's scripts see them. */
class CommandLineTest {
    private static String previousHome;

    record Outcome(int exitCode, String out, String err) {
    }

    @BeforeAll
    static void bundledPlugins() {
        previousHome = System.getProperty(Gateway.HOME_PROPERTY);
        System.setProperty(Gateway.HOME_PROPERTY, TestGateway.PLUGINS.getParent().toString());
    }

    @AfterAll
    static void restore() {
        if (previousHome == null) {
            System.clearProperty(Gateway.HOME_PROPERTY);
        } else {
            System.setProperty(Gateway.HOME_PROPERTY, previousHome);
        }
    }

    private static synchronized Outcome pgwarden(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.commandLine().execute(args);
            return new Outcome(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void theExampleConfigurationPassesCheckConfig() {
        Outcome o = pgwarden("check-config", "--config", "../config/pgwarden.example.yaml");
        assertThat(o.exitCode()).as(o.err()).isZero();
        assertThat(o.out()).contains("ok (1 upstream(s), 2 authenticator(s)");
    }

    @Test
    void theReferenceConfigurationIsValidAndStopsOnlyAtItsPlaceholderPluginFolder() {
        // Every key passes validation; nothing in it is refused as unenforced since recording is
        // carried out (issue 8); the first thing check-config would load is a folder it only names.
        Outcome o = pgwarden("check-config", "--config", "../config/reference.yaml");
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("plugins.dir:").contains("is not a directory").doesNotContain("cannot enforce");
    }

    @Test
    void checkConfigLetsThePluginCheckItsOwnEntry(@TempDir Path dir) throws Exception {
        // Regression: check-config once passed a digest that run then refused.
        Path file = dir.resolve("bad-digest.yaml");
        Files.writeString(file, """
                upstreams: [ { name: app, credential: { user: u, password_env: P } } ]
                authenticators: [ { type: static-keys, keys: [ { name: a, key_sha256: "abc" } ] } ]
                policies: [ { name: p, match: { names: [a] }, upstream: app } ]
                """);
        Outcome o = pgwarden("check-config", "--config", file.toString());
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("authenticators[0].keys[0].key_sha256: must be 64 hexadecimal digits");
    }

    @Test
    void checkConfigBuildsTheMaskersAndNamesAMissingHashKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("masking.yaml");
        Files.writeString(file, """
                upstreams: [ { name: app, credential: { user: u, password_env: P } } ]
                authenticators: [ { type: static-keys, keys: [ { name: a, key_sha256: "6c1f0e4b2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b" } ] } ]
                policies: [ { name: p, match: { names: [a] }, upstream: app } ]
                masking: { maskers: [ { name: last4, type: partial }, { name: pseudonym, type: hash, key_env: PGW_TEST_UNSET_KEY_VARIABLE } ] }
                """);
        Outcome o = pgwarden("check-config", "--config", file.toString());
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains("masking.maskers[1].key_env: environment variable PGW_TEST_UNSET_KEY_VARIABLE is not set");
    }

    @Test
    void aBadFileIsReportedWithFileLineAndKeyPath(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("typo.yaml");
        Files.writeString(file, "listen:\n  prot: 6432\n");
        Outcome o = pgwarden("check-config", "--config", file.toString());
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.err()).contains(file + ":").contains("listen.prot: unknown key");
        Outcome missing = pgwarden("run", "--config", dir.resolve("nope.yaml").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("nope.yaml: no such file");
    }

    @Test
    void runOnABusyPortSaysSoInsteadOfAStackTrace(@TempDir Path dir) throws Exception {
        // Regression: a bind failure escaped as a raw Java exception.
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path file = dir.resolve("busy.yaml");
            Files.writeString(file, """
                    listen: { host: 127.0.0.1, port: %d, tls: { mode: disable } }
                    admin: { port: 0 }
                    upstreams: [ { name: app, credential: { user: u, password: dev-only } } ]
                    authenticators: [ { type: static-keys, keys: [ { name: a, key_sha256: "%s" } ] } ]
                    policies: [ { name: p, match: { names: [a] }, upstream: app } ]
                    """.formatted(busy.getLocalPort(), TestGateway.sha256Hex("k")));
            Outcome o = pgwarden("run", "--config", file.toString());
            assertThat(o.exitCode()).isEqualTo(1);
            assertThat(o.err()).startsWith("pgwarden: cannot start: cannot listen on 127.0.0.1:" + busy.getLocalPort())
                    .doesNotContain("\tat ");
        }
    }

    @Test
    void versionNamesPgwardenItsCommitJavaAndTheBundledPlugins() {
        Outcome o = pgwarden("version");
        assertThat(o.exitCode()).as(o.err()).isZero();
        assertThat(o.out()).startsWith("pgwarden 0.").containsPattern("\\(commit [0-9a-f]{7,}(-dirty)?\\)").contains("Java 25")
                .contains("  auth-static-keys ").contains("  auth-oidc ").contains("  audit-jsonl ");
    }

    @Test
    void healthFailsWhenNoGatewayIsRunning(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("stopped.yaml");
        Files.writeString(file, """
                upstreams: [ { name: app, credential: { user: u, password_env: P } } ]
                authenticators: [ { type: static-keys, keys: [] } ]
                policies: [ { name: p, match: { names: [a] }, upstream: app } ]
                """);
        Outcome o = pgwarden("health", "--config", file.toString());
        assertThat(o.exitCode()).isEqualTo(1);
        assertThat(o.out()).doesNotContain("ok");
    }
}
