package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.util.PSQLException;

/**
 * TLS between clients and the gateway (listen.tls.mode), with pgjdbc, psql and raw sockets
 * for what no driver does on purpose: PostgreSQL 17's direct TLS, bytes smuggled behind an
 * SSLRequest (CVE-2021-23214), GSSENCRequest before SSLRequest.
 */
class ClientTlsTest {
    private static final int SSL_REQUEST_CODE = 80877103;
    private static final int GSSENC_REQUEST_CODE = 80877104;
    private static final int SOCKET_TIMEOUT_MILLIS = 30_000;

    private static LocalPostgres pg;

    @BeforeAll
    static void sharedServer() {
        pg = TestPostgres.shared();
    }

    static TestGateway gateway(String tlsMode) {
        return TestGateway.start(pg, TestGateway.Settings.defaults(pg).tls(tlsMode));
    }

    static void assertSelectOneWorks(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    static void assertPlaintextRefusedForCredentials(TestGateway gateway) {
        assertThatThrownBy(() -> gateway.connect(Map.of("sslmode", "disable")))
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28000");
                    assertThat(e.getServerErrorMessage()).isNotNull();
                    assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
                    assertThat(e.getServerErrorMessage().getMessage()).contains("only over TLS");
                });
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class ModeRequire {
        private TestGateway gateway;

        @BeforeAll
        void start() {
            gateway = gateway("require");
        }

        @AfterAll
        void stop() {
            gateway.close();
        }

        @Test
        void pgjdbcWithSslmodeRequireWorks() throws Exception {
            try (Connection c = gateway.connect(Map.of("sslmode", "require"))) {
                assertSelectOneWorks(c);
            }
        }

        @Test
        void plaintextIsRefusedWith28000() {
            assertPlaintextRefusedForCredentials(gateway);
        }

        @Test
        void psqlWithSslmodeRequireWorks() throws Exception {
            var psql = ExternalCommand.find("psql");
            org.junit.jupiter.api.Assumptions.assumeTrue(psql != null, "psql is not installed");
            Map<String, String> env = new HashMap<>(gateway.libpqEnvironment());
            env.put("PGSSLMODE", "require");
            var result = ExternalCommand.run(List.of(psql.toString(), "-X", "-A", "-t", "-c", "SELECT 40 + 2", "-c", "\\conninfo"),
                    env, null, 60);
            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(result.output()).contains("42\n").contains("SSL connection (protocol: TLSv1.3");
        }

        @Test
        void psqlCtrlCOverTlsCancelsTheStatement() throws Exception {
            var psql = ExternalCommand.find("psql");
            org.junit.jupiter.api.Assumptions.assumeTrue(psql != null, "psql is not installed");
            Map<String, String> env = new HashMap<>(gateway.libpqEnvironment());
            env.put("PGSSLMODE", "require");
            PsqlThroughGatewayTest.assertCtrlCCancels(psql, pg, env);
        }

        @Test
        void pgjdbcCancelOverTlsCancelsTheStatement() throws Exception {
            try (Connection c = gateway.connect(Map.of("sslmode", "require")); Statement s = c.createStatement()) {
                var cancel = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try {
                        TestPostgres.awaitActiveQuery(pg, "pg_sleep(31)");
                        s.cancel();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                assertThatThrownBy(() -> s.execute("SELECT pg_sleep(31)"))
                        .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
                cancel.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertSelectOneWorks(c);
            }
        }

        @Test
        void directTlsWithAlpnPostgresqlReachesTheStartupAndAFullSession() throws Exception {
            try (SSLSocket tls = directTls(gateway.port(), "postgresql")) {
                assertThat(tls.getApplicationProtocol()).isEqualTo("postgresql");
                OutputStream out = tls.getOutputStream();
                DataInputStream in = new DataInputStream(tls.getInputStream());
                out.write(startupMessage());
                out.flush();
                Message auth = Message.read(in);
                assertThat(auth.type()).isEqualTo('R');
                assertThat(auth.body().getInt()).as("AuthenticationCleartextPassword").isEqualTo(3);
                assertFullSession(in, out);
            }
        }

        /**
         * Regression: the gateway took a direct TLS connection without ALPN "postgresql" as a
         * PostgreSQL session and asked it for a password. PostgreSQL 17 requires that ALPN on
         * direct TLS, so that a TLS connection meant for another protocol (ALPACA-style
         * cross-protocol attacks) is never taken for a session; it closes without answering.
         */
        @Test
        void directTlsWithoutAlpnPostgresqlRegression() throws Exception {
            assertDirectTlsRefused(null);
        }

        /** Regression: a client offering only another ALPN protocol got a session; PostgreSQL sends no_application_protocol. */
        @Test
        void alpnOfferingOnlyAnotherProtocolRegression() throws Exception {
            assertDirectTlsRefused("http/1.1");
            try (Socket s = rawSocket(gateway.port())) {
                s.getOutputStream().write(sslRequest());
                s.getOutputStream().flush();
                assertThat((char) s.getInputStream().read()).isEqualTo('S');
                SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket(s, "127.0.0.1", gateway.port(), true);
                SSLParameters params = tls.getSSLParameters();
                params.setApplicationProtocols(new String[] {"http/1.1"});
                tls.setSSLParameters(params);
                assertThatThrownBy(tls::startHandshake).isInstanceOf(SSLException.class);
            }
        }

        private void assertDirectTlsRefused(String alpn) throws Exception {
            SSLSocket tls;
            try {
                tls = directTls(gateway.port(), alpn);
            } catch (SSLException e) {
                return; // refused in the handshake
            }
            try (tls) {
                assertThat(tls.getApplicationProtocol()).isNotEqualTo("postgresql");
                DataInputStream in = new DataInputStream(tls.getInputStream());
                tls.getOutputStream().write(startupMessage());
                tls.getOutputStream().flush();
                assertThat(readUntilClosed(in)).as("what the gateway answered to the startup").isEmpty();
            }
        }

        @Test
        void bytesBehindAnSslRequestAreRefusedNotReadAsEncrypted() throws Exception {
            // CVE-2021-23214: a man in the middle appends a plaintext StartupMessage (here with a
            // query-bearing options string) to the client's SSLRequest, in one TCP segment.
            byte[] smuggled = startupMessage(Map.of("user", TestGateway.AGENT, "database", TestPostgres.DATABASE,
                    "options", "-c search_path=evil"));
            byte[] both = ByteBuffer.allocate(8 + smuggled.length).put(sslRequest()).put(smuggled).array();
            try (Socket s = rawSocket(gateway.port())) {
                s.getOutputStream().write(both);
                s.getOutputStream().flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                int first = in.read();
                assertThat((char) first).as("the gateway must not answer 'S' and then read the smuggled bytes").isEqualTo('E');
                Message error = Message.read((byte) first, in);
                assertThat(error.fields()).containsEntry('S', "FATAL").containsEntry('C', "08P01");
                assertThat(error.fields().get('M')).contains("unencrypted data after SSL request");
                assertThat(readUntilClosed(in)).as("nothing after the error; the connection is closed").isEmpty();
            }
        }

        @Test
        void plaintextInsteadOfAClientHelloAfterTheSIsAFailedHandshakeNotAStartup() throws Exception {
            // The other half of CVE-2021-23214: bytes sent after the gateway's 'S' must be TLS.
            try (Socket s = rawSocket(gateway.port())) {
                s.getOutputStream().write(sslRequest());
                s.getOutputStream().flush();
                assertThat((char) s.getInputStream().read()).isEqualTo('S');
                s.getOutputStream().write(startupMessage());
                s.getOutputStream().flush();
                byte[] answer = readUntilClosed(s.getInputStream());
                // At most a TLS alert record (content type 21), never an Authentication request.
                if (answer.length > 0) {
                    assertThat(answer[0]).as("a TLS alert record").isEqualTo((byte) 21);
                }
            }
        }

        @Test
        void bytesBehindAGssEncRequestAreRefused() throws Exception {
            byte[] both = ByteBuffer.allocate(8 + 8).putInt(8).putInt(GSSENC_REQUEST_CODE).put(sslRequest()).array();
            try (Socket s = rawSocket(gateway.port())) {
                s.getOutputStream().write(both);
                s.getOutputStream().flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                Message error = Message.read(in);
                assertThat(error.type()).isEqualTo('E');
                assertThat(error.fields()).containsEntry('C', "08P01");
                assertThat(readUntilClosed(in)).isEmpty();
            }
        }

        @Test
        void anSslRequestInsideTlsIsAProtocolViolation() throws Exception {
            try (SSLSocket tls = directTls(gateway.port(), "postgresql")) {
                tls.getOutputStream().write(sslRequest());
                tls.getOutputStream().flush();
                DataInputStream in = new DataInputStream(tls.getInputStream());
                Message error = Message.read(in);
                assertThat(error.type()).isEqualTo('E');
                assertThat(error.fields()).containsEntry('S', "FATAL").containsEntry('C', "08P01");
                assertThat(readUntilClosed(in)).isEmpty();
            }
        }

        @Test
        void aGssEncRequestIsAnsweredNAndTheConnectionContinuesWithTls() throws Exception {
            try (Socket s = rawSocket(gateway.port())) {
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write(ByteBuffer.allocate(8).putInt(8).putInt(GSSENC_REQUEST_CODE).array());
                out.flush();
                assertThat((char) in.read()).isEqualTo('N');
                out.write(sslRequest());
                out.flush();
                assertThat((char) in.read()).isEqualTo('S');
                try (SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket(s, "127.0.0.1", gateway.port(), true)) {
                    tls.startHandshake();
                    DataInputStream tin = new DataInputStream(tls.getInputStream());
                    tls.getOutputStream().write(startupMessage());
                    tls.getOutputStream().flush();
                    Message auth = Message.read(tin);
                    assertThat(auth.type()).isEqualTo('R');
                    assertThat(auth.body().getInt()).isEqualTo(3);
                    assertFullSession(tin, tls.getOutputStream());
                }
            }
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class ModePrefer {
        private TestGateway gateway;

        @BeforeAll
        void start() {
            gateway = gateway("prefer");
        }

        @AfterAll
        void stop() {
            gateway.close();
        }

        @Test
        void plaintextIsRefusedBecauseCredentialsTravelOnlyOverTls() {
            assertPlaintextRefusedForCredentials(gateway);
        }

        @Test
        void tlsWorks() throws Exception {
            try (Connection c = gateway.connect(Map.of("sslmode", "require"))) {
                assertSelectOneWorks(c);
            }
            try (Connection c = gateway.connect(Map.of("sslmode", "prefer"))) {
                assertSelectOneWorks(c);
            }
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class ModeDisable {
        private TestGateway gateway;

        @BeforeAll
        void start() {
            gateway = gateway("disable");
        }

        @AfterAll
        void stop() {
            gateway.close();
        }

        @Test
        void plaintextWorks() throws Exception {
            try (Connection c = gateway.connect(Map.of("sslmode", "disable"))) {
                assertSelectOneWorks(c);
            }
            // prefer falls back to plaintext after the gateway's 'N', as against PostgreSQL with ssl=off.
            try (Connection c = gateway.connect(Map.of("sslmode", "prefer"))) {
                assertSelectOneWorks(c);
            }
        }

        @Test
        void sslmodeRequireFailsOnTheClientSide() {
            assertThatThrownBy(() -> gateway.connect(Map.of("sslmode", "require")))
                    .isInstanceOf(PSQLException.class)
                    .hasMessageContaining("The server does not support SSL");
        }
    }

    // ---- raw protocol helpers ------------------------------------------------------------

    /** One backend message: type and body (the length word removed). */
    record Message(char type, ByteBuffer body) {
        static Message read(DataInputStream in) throws IOException {
            return read(in.readByte(), in);
        }

        static Message read(byte type, DataInputStream in) throws IOException {
            int length = in.readInt();
            assertThat(length).isBetween(4, 1 << 20);
            byte[] body = new byte[length - 4];
            in.readFully(body);
            return new Message((char) type, ByteBuffer.wrap(body));
        }

        /** The fields of an ErrorResponse or NoticeResponse. */
        Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            ByteBuffer b = body.duplicate();
            while (b.hasRemaining()) {
                byte code = b.get();
                if (code == 0) {
                    break;
                }
                fields.put((char) code, cString(b));
            }
            return fields;
        }

        private static String cString(ByteBuffer b) {
            int start = b.position();
            while (b.get() != 0) {
                // scan to the terminator
            }
            return new String(b.array(), start, b.position() - start - 1, StandardCharsets.UTF_8);
        }
    }

    static byte[] sslRequest() {
        return ByteBuffer.allocate(8).putInt(8).putInt(SSL_REQUEST_CODE).array();
    }

    static byte[] startupMessage() {
        return startupMessage(Map.of("user", TestGateway.AGENT, "database", TestPostgres.DATABASE));
    }

    static byte[] startupMessage(Map<String, String> parameters) {
        var body = new ByteArrayOutputStream();
        parameters.forEach((k, v) -> {
            body.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            body.write(0);
            body.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        });
        body.write(0);
        return ByteBuffer.allocate(8 + body.size()).putInt(8 + body.size()).putInt(3 << 16).put(body.toByteArray()).array();
    }

    static byte[] typed(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(b.length + 1).put(b).put((byte) 0).array();
    }

    /** After AuthenticationCleartextPassword: log in with the agent key, run a query, terminate. */
    static void assertFullSession(DataInputStream in, OutputStream out) throws IOException {
        out.write(typed('p', cString(TestGateway.AGENT_KEY)));
        out.flush();
        Message m = Message.read(in);
        assertThat(m.type()).as("AuthenticationOk").isEqualTo('R');
        assertThat(m.body().getInt()).isZero();
        boolean sawKey = false;
        while ((m = Message.read(in)).type() != 'Z') {
            assertThat(m.type()).as("start-up message").isIn('S', 'K', 'N');
            sawKey |= m.type() == 'K';
        }
        assertThat(sawKey).as("BackendKeyData").isTrue();
        out.write(typed('Q', cString("SELECT 40 + 2")));
        out.flush();
        assertThat(Message.read(in).type()).isEqualTo('T');
        Message row = Message.read(in);
        assertThat(row.type()).isEqualTo('D');
        assertThat(row.body().getShort()).isEqualTo((short) 1);
        int length = row.body().getInt();
        assertThat(new String(row.body().array(), row.body().position(), length, StandardCharsets.UTF_8)).isEqualTo("42");
        assertThat(Message.read(in).type()).isEqualTo('C');
        assertThat(Message.read(in).type()).isEqualTo('Z');
        out.write(typed('X', new byte[0]));
        out.flush();
    }

    /** Everything the peer sends until it closes; fails on a read timeout (the peer hung). */
    static byte[] readUntilClosed(InputStream in) throws IOException {
        var all = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                all.write(buf, 0, n);
            }
        } catch (EOFException | SocketException | SSLException e) {
            // closed (a reset or a TLS close without close_notify count as closed)
        }
        return all.toByteArray();
    }

    static Socket rawSocket(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
        s.connect(new InetSocketAddress("127.0.0.1", port), SOCKET_TIMEOUT_MILLIS);
        return s;
    }

    /** A TLS connection that opens with the handshake itself (PostgreSQL 17's sslnegotiation=direct). */
    static SSLSocket directTls(int port, String alpn) throws Exception {
        Socket raw = rawSocket(port);
        SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket(raw, "127.0.0.1", port, true);
        SSLParameters params = tls.getSSLParameters();
        if (alpn != null) {
            params.setApplicationProtocols(new String[] {alpn});
        }
        tls.setSSLParameters(params);
        try {
            tls.startHandshake();
        } catch (IOException e) {
            tls.close();
            throw e;
        }
        return tls;
    }

    /** The gateway's certificate is self-signed and generated at start; these tests are about the protocol, not trust. */
    static SSLContext trustAll() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return ctx;
    }
}
