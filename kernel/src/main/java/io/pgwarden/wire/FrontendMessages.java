package io.pgwarden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Map;

/** Encoders for the frontend (F) messages that the gateway itself writes to an upstream. */
public final class FrontendMessages {
    public static final byte QUERY = 'Q';
    public static final byte PARSE = 'P';
    public static final byte BIND = 'B';
    public static final byte EXECUTE = 'E';
    public static final byte DESCRIBE = 'D';
    public static final byte CLOSE = 'C';
    public static final byte FLUSH = 'H';
    public static final byte SYNC = 'S';
    public static final byte FUNCTION_CALL = 'F';
    public static final byte PASSWORD = 'p';
    public static final byte TERMINATE = 'X';

    private FrontendMessages() {
    }

    public static ByteBuf sslRequest(ByteBufAllocator alloc) {
        return alloc.buffer(8).writeInt(8).writeInt(StartupPacketDecoder.SSL_REQUEST_CODE);
    }

    public static ByteBuf cancelRequest(ByteBufAllocator alloc, int processId, int secretKey) {
        return alloc.buffer(16).writeInt(16).writeInt(StartupPacketDecoder.CANCEL_REQUEST_CODE)
                .writeInt(processId).writeInt(secretKey);
    }

    public static ByteBuf startupMessage(ByteBufAllocator alloc, Map<String, String> parameters) {
        ByteBuf buf = alloc.buffer();
        buf.writeInt(0).writeInt(3 << 16);
        parameters.forEach((k, v) -> {
            BackendMessages.writeCString(buf, k);
            BackendMessages.writeCString(buf, v);
        });
        buf.writeByte(0);
        buf.setInt(0, buf.writerIndex());
        return buf;
    }

    /** A simple-protocol Query. */
    public static ByteBuf query(ByteBufAllocator alloc, String sql) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(QUERY).writeInt(0);
        BackendMessages.writeCString(buf, sql);
        return BackendMessages.patchLength(buf);
    }

    /** A Parse of {@code sql} as statement {@code name} (empty: the unnamed one), with no parameter types. */
    public static ByteBuf parse(ByteBufAllocator alloc, String name, String sql) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(PARSE).writeInt(0);
        BackendMessages.writeCString(buf, name);
        BackendMessages.writeCString(buf, sql);
        buf.writeShort(0);
        return BackendMessages.patchLength(buf);
    }

    /** A Describe of a portal ({@code kind} 'P') or statement ('S'). */
    public static ByteBuf describe(ByteBufAllocator alloc, char kind, String name) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(DESCRIBE).writeInt(0).writeByte(kind);
        BackendMessages.writeCString(buf, name);
        return BackendMessages.patchLength(buf);
    }

    /** An Execute of {@code portal} with no row limit. */
    public static ByteBuf execute(ByteBufAllocator alloc, String portal) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(EXECUTE).writeInt(0);
        BackendMessages.writeCString(buf, portal);
        buf.writeInt(0);
        return BackendMessages.patchLength(buf);
    }

    /** PasswordMessage carrying a cleartext or MD5 password string. */
    public static ByteBuf password(ByteBufAllocator alloc, String password) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(PASSWORD).writeInt(0);
        BackendMessages.writeCString(buf, password);
        return BackendMessages.patchLength(buf);
    }

    /** PasswordMessage carrying a cleartext password given as UTF-8 bytes (which the caller wipes). */
    public static ByteBuf password(ByteBufAllocator alloc, byte[] utf8) {
        ByteBuf buf = alloc.buffer(6 + utf8.length);
        buf.writeByte(PASSWORD).writeInt(5 + utf8.length).writeBytes(utf8).writeByte(0);
        return buf;
    }

    public static ByteBuf saslInitialResponse(ByteBufAllocator alloc, String mechanism, byte[] data) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(PASSWORD).writeInt(0);
        BackendMessages.writeCString(buf, mechanism);
        buf.writeInt(data.length).writeBytes(data);
        return BackendMessages.patchLength(buf);
    }

    public static ByteBuf saslResponse(ByteBufAllocator alloc, byte[] data) {
        ByteBuf buf = alloc.buffer(5 + data.length);
        buf.writeByte(PASSWORD).writeInt(4 + data.length).writeBytes(data);
        return buf;
    }

    public static ByteBuf terminate(ByteBufAllocator alloc) {
        return alloc.buffer(5).writeByte(TERMINATE).writeInt(4);
    }
}
