package io.pgwarden.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * The gateway's TLS to the upstream, with libpq's sslmode meanings: a private PostgreSQL
 * serves a self-signed certificate made here with the openssl CLI; the shared server has no
 * TLS at all.
 *
 * <p>The certificate names only {@code DNS:localhost}, not 127.0.0.1, so that verify-full's
 * host-name check can be seen to work on its own: with the right root certificate it
 * succeeds for host {@code localhost} and fails for host {@code 127.0.0.1}, the same server.
 */
class UpstreamTlsTest {
    private static Path dir;
    private static Path serverCert;
    private static Path otherCert;
    private static LocalPostgres tlsServer;
    private static LocalPostgres plainServer;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("pgwarden-upstream-tls-");
        // PostgreSQL runs as postgres and must be able to reach the files.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        serverCert = dir.resolve("server.crt");
        Path serverKey = dir.resolve("server.key");
        selfSigned(serverCert, serverKey, "DNS:localhost");
        otherCert = dir.resolve("other.crt");
        selfSigned(otherCert, dir.resolve("other.key"), "DNS:localhost,IP:127.0.0.1");
        // PostgreSQL refuses a key that others can read, and one it does not own (or root).
        Files.setPosixFilePermissions(serverKey, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(serverCert, PosixFilePermissions.fromString("rw-r--r--"));
        if ("root".equals(System.getProperty("user.name"))) {
            run(List.of("chown", "postgres:postgres", serverKey.toString(), serverCert.toString()));
        }
        tlsServer = TestPostgres.startPrivate(Map.of("ssl", "on", "ssl_cert_file", "'" + serverCert + "'",
                "ssl_key_file", "'" + serverKey + "'"));
        plainServer = TestPostgres.shared();
    }

    @AfterAll
    static void stop() throws IOException {
        if (tlsServer != null) {
            tlsServer.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void selfSigned(Path cert, Path key, String subjectAltName) throws Exception {
        Path openssl = ExternalCommand.find("openssl");
        assertThat(openssl).as("the openssl CLI").isNotNull();
        run(List.of(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=" + subjectAltName,
                "-keyout", key.toString(), "-out", cert.toString()));
    }

    private static void run(List<String> command) throws Exception {
        var result = ExternalCommand.run(command, Map.of(), null, 60);
        assertThat(result.exitCode()).as("%s: %s", command, result.output()).isZero();
    }

    private static TestGateway gateway(LocalPostgres upstream, String tlsMode, String extraKeys) {
        return TestGateway.start(upstream, TestGateway.Settings.defaults(upstream).upstreamTls(tlsMode, extraKeys));
    }

    /** Whether the gateway's upstream session for this client is encrypted, as the upstream itself reports. */
    private static boolean upstreamSessionEncrypted(TestGateway gateway) throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            return rs.getBoolean(1);
        }
    }

    private static void assertUpstreamUnavailable(TestGateway gateway) {
        assertThatThrownBy(gateway::connect).isInstanceOfSatisfying(PSQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("08001");
            assertThat(e.getServerErrorMessage()).isNotNull();
            assertThat(e.getServerErrorMessage().getMessage()).isEqualTo("could not connect to upstream \"app\"");
            // Certificate and handshake details are for the operator's log only.
            assertThat(e.getMessage()).doesNotContainIgnoringCase("certificate").doesNotContainIgnoringCase("PKIX");
        });
    }

    /** Points the upstream mapping at {@code host} instead of 127.0.0.1 (the certificate names localhost). */
    private static TestGateway gatewayWithHost(LocalPostgres upstream, String host, String tlsMode, String extraKeys) {
        return TestGateway.start(upstream, TestGateway.Settings.defaults(upstream).upstreamTls(tlsMode, extraKeys).upstreamHost(host));
    }

    @Test
    void requireEncryptsTheUpstreamSession() throws Exception {
        try (TestGateway gateway = gateway(tlsServer, "require", "")) {
            assertThat(upstreamSessionEncrypted(gateway)).isTrue();
        }
    }

    @Test
    void preferEncryptsWhenTheUpstreamOffersTls() throws Exception {
        try (TestGateway gateway = gateway(tlsServer, "prefer", "")) {
            assertThat(upstreamSessionEncrypted(gateway)).isTrue();
        }
    }

    @Test
    void disableStaysPlaintextEvenWhenTheUpstreamOffersTls() throws Exception {
        try (TestGateway gateway = gateway(tlsServer, "disable", "")) {
            assertThat(upstreamSessionEncrypted(gateway)).isFalse();
        }
    }

    @Test
    void verifyFullWithTheServersCertificateAsRootWorks() throws Exception {
        try (TestGateway gateway = gatewayWithHost(tlsServer, "localhost", "verify-full", "tls_root_cert: " + serverCert)) {
            assertThat(upstreamSessionEncrypted(gateway)).isTrue();
        }
    }

    @Test
    void verifyFullRefusesACertificateThatDoesNotNameTheHost() throws Exception {
        // Same server and trusted chain as above; only the configured host differs.
        try (TestGateway gateway = gateway(tlsServer, "verify-full", "tls_root_cert: " + serverCert)) {
            assertUpstreamUnavailable(gateway);
        }
    }

    @Test
    void verifyFullWithoutARootCertificateUsesTheJdkTrustStoreAndRefusesSelfSigned() throws Exception {
        try (TestGateway gateway = gatewayWithHost(tlsServer, "localhost", "verify-full", "")) {
            assertUpstreamUnavailable(gateway);
        }
    }

    @Test
    void verifyFullWithAnotherRootCertificateIsRefused() throws Exception {
        try (TestGateway gateway = gatewayWithHost(tlsServer, "localhost", "verify-full", "tls_root_cert: " + otherCert)) {
            assertUpstreamUnavailable(gateway);
        }
    }

    @Test
    void requireAgainstAServerWithoutTlsFails() throws Exception {
        try (TestGateway gateway = gateway(plainServer, "require", "")) {
            assertUpstreamUnavailable(gateway);
        }
    }

    @Test
    void verifyFullAgainstAServerWithoutTlsFails() throws Exception {
        try (TestGateway gateway = gateway(plainServer, "verify-full", "tls_root_cert: " + serverCert)) {
            assertUpstreamUnavailable(gateway);
        }
    }

    @Test
    void preferAgainstAServerWithoutTlsFallsBackToPlaintext() throws Exception {
        try (TestGateway gateway = gateway(plainServer, "prefer", "")) {
            assertThat(upstreamSessionEncrypted(gateway)).isFalse();
        }
    }
}
