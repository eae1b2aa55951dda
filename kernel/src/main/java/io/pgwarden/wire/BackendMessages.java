package io.pgwarden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.util.List;

/** Encoders for the backend (B) messages that the gateway itself writes to a client. */
public final class BackendMessages {
    public static final byte AUTHENTICATION = 'R';
    public static final byte BACKEND_KEY_DATA = 'K';
    public static final byte ERROR_RESPONSE = 'E';
    public static final byte NOTICE_RESPONSE = 'N';
    public static final byte PARAMETER_STATUS = 'S';
    public static final byte READY_FOR_QUERY = 'Z';
    public static final byte COMMAND_COMPLETE = 'C';
    public static final byte ROW_DESCRIPTION = 'T';
    public static final byte DATA_ROW = 'D';
    public static final byte NO_DATA = 'n';
    public static final byte NOTIFICATION_RESPONSE = 'A';
    public static final byte EMPTY_QUERY_RESPONSE = 'I';
    public static final byte PORTAL_SUSPENDED = 's';
    public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';

    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT_PASSWORD = 3;
    public static final int AUTH_MD5_PASSWORD = 5;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    private BackendMessages() {
    }

    public static ByteBuf authentication(ByteBufAllocator alloc, int code) {
        ByteBuf buf = alloc.buffer(9);
        buf.writeByte(AUTHENTICATION).writeInt(8).writeInt(code);
        return buf;
    }

    public static ByteBuf backendKeyData(ByteBufAllocator alloc, int processId, int secretKey) {
        ByteBuf buf = alloc.buffer(13);
        buf.writeByte(BACKEND_KEY_DATA).writeInt(12).writeInt(processId).writeInt(secretKey);
        return buf;
    }

    public static ByteBuf readyForQuery(ByteBufAllocator alloc, byte transactionStatus) {
        ByteBuf buf = alloc.buffer(6);
        buf.writeByte(READY_FOR_QUERY).writeInt(5).writeByte(transactionStatus);
        return buf;
    }

    public static ByteBuf parameterStatus(ByteBufAllocator alloc, String name, String value) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(PARAMETER_STATUS).writeInt(0);
        writeCString(buf, name);
        writeCString(buf, value);
        return patchLength(buf);
    }

    /** NegotiateProtocolVersion: the newest minor version we speak, and the _pq_ options we ignored. */
    public static ByteBuf negotiateProtocolVersion(ByteBufAllocator alloc, int newestMinor, List<String> unrecognized) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(NEGOTIATE_PROTOCOL_VERSION).writeInt(0).writeInt(newestMinor).writeInt(unrecognized.size());
        unrecognized.forEach(o -> writeCString(buf, o));
        return patchLength(buf);
    }

    /**
     * An ErrorResponse or NoticeResponse. Severity goes out twice, localised (S) and not (V),
     * as servers since 9.6 do; pgjdbc reads V when present.
     */
    public static ByteBuf errorOrNotice(ByteBufAllocator alloc, byte type, String severity, String sqlState,
                                        String message, String detail, String hint) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(type).writeInt(0);
        field(buf, 'S', severity);
        field(buf, 'V', severity);
        field(buf, 'C', sqlState);
        field(buf, 'M', message);
        if (detail != null) {
            field(buf, 'D', detail);
        }
        if (hint != null) {
            field(buf, 'H', hint);
        }
        buf.writeByte(0);
        return patchLength(buf);
    }

    /** A NotificationResponse (LISTEN/NOTIFY). */
    public static ByteBuf notificationResponse(ByteBufAllocator alloc, int processId, String channel, String payload) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(NOTIFICATION_RESPONSE).writeInt(0).writeInt(processId);
        writeCString(buf, channel);
        writeCString(buf, payload);
        return patchLength(buf);
    }

    /** An ErrorResponse or NoticeResponse with exactly these fields, in this order. */
    public static ByteBuf errorOrNotice(ByteBufAllocator alloc, byte type, java.util.Map<Character, String> fields) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(type).writeInt(0);
        fields.forEach((code, value) -> field(buf, code, value));
        buf.writeByte(0);
        return patchLength(buf);
    }

    private static void field(ByteBuf buf, char code, String value) {
        buf.writeByte(code);
        writeCString(buf, value);
    }

    static void writeCString(ByteBuf buf, String s) {
        // A NUL inside would end the string early and desynchronise the client's parser.
        ByteBufUtil.writeUtf8(buf, s.indexOf('\0') >= 0 ? s.replace('\0', ' ') : s);
        buf.writeByte(0);
    }

    static ByteBuf patchLength(ByteBuf buf) {
        buf.setInt(1, buf.writerIndex() - 1);
        return buf;
    }

}
