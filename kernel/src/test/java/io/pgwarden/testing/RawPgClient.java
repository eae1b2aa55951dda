package io.pgwarden.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The PostgreSQL protocol spoken by hand over a plain socket, for tests that must do what
 * no well-behaved driver does: stop reading, vanish, send a broken length.
 */
public final class RawPgClient implements AutoCloseable {

    /** One backend message: its type byte and body (without the length). */
    public record Message(char type, byte[] body) {
        /** ErrorResponse / NoticeResponse fields by code (S, V, C, M, ...). */
        public Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                fields.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return fields;
        }

        public String sqlState() {
            return fields().get('C');
        }

        public String severity() {
            return fields().getOrDefault('V', fields().get('S'));
        }

        @Override
        public String toString() {
            return type == 'E' || type == 'N' ? type + fields().toString() : type + "(" + body.length + " bytes)";
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private RawPgClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
    }

    /** Connects with a read timeout, so that a test never waits forever for a message. */
    public static RawPgClient connect(int port, Duration readTimeout) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout((int) readTimeout.toMillis());
        s.setTcpNoDelay(true);
        return new RawPgClient(s);
    }

    public Socket socket() {
        return socket;
    }

    public void startup(Map<String, String> parameters) throws IOException {
        writeStartup(parameters);
        out.flush();
    }

    /**
     * The startup message and the password in one write, without waiting for the request
     * for the password: allowed by the protocol's byte stream, done by no common driver.
     */
    public void startupPipeliningPassword(Map<String, String> parameters, String password) throws IOException {
        writeStartup(parameters);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, password);
        out.writeByte('p');
        out.writeInt(4 + body.size());
        body.writeTo(out);
        out.flush();
    }

    private void writeStartup(Map<String, String> parameters) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        parameters.forEach((k, v) -> {
            cString(body, k);
            cString(body, v);
        });
        body.write(0);
        out.writeInt(8 + body.size());
        out.writeInt(3 << 16);
        body.writeTo(out);
    }

    public void password(String password) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, password);
        send('p', body.toByteArray());
    }

    public void query(String sql) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, sql);
        send('Q', body.toByteArray());
    }

    public void terminate() throws IOException {
        send('X', new byte[0]);
    }

    public void send(char type, byte[] body) throws IOException {
        out.writeByte(type);
        out.writeInt(4 + body.length);
        out.write(body);
        out.flush();
    }

    /** Bytes exactly as given: for broken headers. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next message; EOFException when the server closed the connection. */
    public Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int length = in.readInt();
        if (length < 4 || length > (64 << 20)) {
            throw new IOException("implausible length " + length + " for message " + type);
        }
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    /** Reads until a message of the given type (returned) or an ErrorResponse (thrown). */
    public Message readUntil(char type) throws IOException {
        while (true) {
            Message m = read();
            if (m.type() == type) {
                return m;
            }
            if (m.type() == 'E') {
                throw new ServerError(m);
            }
        }
    }

    /** Startup and cleartext password, up to the first ReadyForQuery. */
    public void login(String user, String password, String database, String applicationName) throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", user);
        p.put("database", database);
        p.put("application_name", applicationName);
        startup(p);
        Message auth = readUntil('R');
        if (auth.body().length < 4 || auth.body()[3] != 3) {
            throw new IOException("expected AuthenticationCleartextPassword, got " + auth);
        }
        password(password);
        readUntil('Z');
    }

    /** Whether the server closes the connection (EOF or reset) before the socket's read timeout. */
    public boolean closedByServer() throws IOException {
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        }
    }

    /** Drops the connection without a goodbye: RST instead of FIN, with unread data left. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static void cString(ByteArrayOutputStream buf, String s) {
        buf.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        buf.write(0);
    }

    /** An ErrorResponse where another message was expected. */
    public static final class ServerError extends IOException {
        private static final long serialVersionUID = 1L;
        private final transient Message message;

        ServerError(Message message) {
            super("server error " + message);
            this.message = message;
        }

        public Message error() {
            return message;
        }
    }
}
