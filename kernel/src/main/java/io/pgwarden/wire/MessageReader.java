package io.pgwarden.wire;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decoders for the few message bodies the gateway needs to understand. Each takes a whole
 * framed message (type byte, length, body) as produced by {@link MessageFrameDecoder} and
 * reads it without moving the buffer's indexes, so the same bytes can still be forwarded.
 */
public final class MessageReader {
    private static final int BODY = 5;

    private MessageReader() {
    }

    public static byte type(ByteBuf frame) {
        return frame.getByte(frame.readerIndex());
    }

    /** PasswordMessage: the password (or token) as a string. */
    public static String password(ByteBuf frame) {
        ByteBuf body = body(frame);
        String value = cString(body);
        if (body.isReadable()) {
            throw new ProtocolViolationException("invalid password packet size");
        }
        return value;
    }

    /** The code of an Authentication* message (0 ok, 3 cleartext, 5 MD5, 10/11/12 SASL). */
    public static int authenticationCode(ByteBuf frame) {
        requireBody(frame, 4);
        return frame.getInt(frame.readerIndex() + BODY);
    }

    /** The bytes after the code: MD5 salt, SASL data. */
    public static byte[] authenticationData(ByteBuf frame) {
        ByteBuf body = body(frame);
        body.skipBytes(4);
        byte[] data = new byte[body.readableBytes()];
        body.readBytes(data);
        return data;
    }

    /** AuthenticationSASL's list of mechanism names. */
    public static List<String> saslMechanisms(ByteBuf frame) {
        ByteBuf body = body(frame);
        body.skipBytes(4);
        List<String> names = new ArrayList<>();
        while (body.isReadable()) {
            String name = cString(body);
            if (name.isEmpty()) {
                break;
            }
            names.add(name);
        }
        return names;
    }

    public record BackendKey(int processId, int secretKey) {
    }

    public static BackendKey backendKeyData(ByteBuf frame) {
        requireBody(frame, 8);
        int at = frame.readerIndex() + BODY;
        return new BackendKey(frame.getInt(at), frame.getInt(at + 4));
    }

    public static Map.Entry<String, String> parameterStatus(ByteBuf frame) {
        ByteBuf body = body(frame);
        return Map.entry(cString(body), cString(body));
    }

    public static byte readyForQueryStatus(ByteBuf frame) {
        requireBody(frame, 1);
        return frame.getByte(frame.readerIndex() + BODY);
    }

    /** The SQL text of a simple-protocol Query. */
    /**
     * @throws InvalidTextException when the text is not valid UTF-8: the gateway must analyse
     *         exactly what the server will run, so it never guesses at bytes
     */
    public static String queryText(ByteBuf frame) {
        return strictCString(body(frame), "invalid Query message: missing terminator");
    }

    /** A Parse message's statement name and SQL text (the parameter types are not needed here). */
    public record Parse(String statementName, String sql) {
    }

    /** A Parse message's statement name alone (also when its text is not valid UTF-8). */
    public static String parseStatementName(ByteBuf frame) {
        return cString(body(frame), "invalid Parse message: missing terminator");
    }

    public static Parse parse(ByteBuf frame) {
        ByteBuf body = body(frame);
        String name = cString(body, "invalid Parse message: missing terminator");
        return new Parse(name, strictCString(body, "invalid Parse message: missing terminator"));
    }

    /** A Bind's destination portal and source statement ("" for the unnamed ones). */
    public record Bind(String portalName, String statementName) {
    }

    public static Bind bindNames(ByteBuf frame) {
        ByteBuf body = body(frame);
        String portal = cString(body, "invalid Bind message: missing terminator");
        return new Bind(portal, cString(body, "invalid Bind message: missing terminator"));
    }

    /** The portal an Execute runs. */
    public static String executePortal(ByteBuf frame) {
        return cString(body(frame), "invalid Execute message: missing terminator");
    }

    /** The statement or portal a Close or Describe names: 'S' or 'P', then the name. */
    public record Target(byte kind, String name) {
    }

    public static Target closeOrDescribeTarget(ByteBuf frame) {
        requireBody(frame, 2);
        ByteBuf body = body(frame);
        byte kind = body.readByte();
        return new Target(kind, cString(body, "invalid Close/Describe message: missing terminator"));
    }

    /** The first column of a DataRow as text (null for SQL NULL); for the gateway's own small queries. */
    public static String firstColumnText(ByteBuf frame) {
        requireBody(frame, 6);
        ByteBuf body = body(frame);
        if (body.readShort() < 1) {
            throw new ProtocolViolationException("DataRow without columns");
        }
        int length = body.readInt();
        if (length < 0) {
            return null;
        }
        if (length > body.readableBytes()) {
            throw new ProtocolViolationException("DataRow column longer than the message");
        }
        return body.toString(body.readerIndex(), length, StandardCharsets.UTF_8);
    }

    /** A CommandComplete's tag, e.g. {@code INSERT 0 3} or {@code SELECT 12}. */
    public static String commandTag(ByteBuf frame) {
        return cString(body(frame), "invalid CommandComplete: missing terminator");
    }

    /** The row count at the end of a command tag, or -1 when the tag carries none (e.g. CREATE TABLE). */
    public static long rowCount(String tag) {
        int space = tag.lastIndexOf(' ');
        if (space < 0) {
            return -1;
        }
        try {
            return Long.parseLong(tag.substring(space + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** One column of a RowDescription. */
    public record Field(String name, int tableOid, int attnum, int typeOid, int format) {
    }

    /** The columns of a RowDescription ('T'). */
    public static List<Field> rowDescription(ByteBuf frame) {
        ByteBuf body = body(frame);
        if (body.readableBytes() < 2) {
            throw new ProtocolViolationException("RowDescription too short");
        }
        int count = body.readUnsignedShort();
        List<Field> fields = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String name = cString(body);
            if (body.readableBytes() < 18) {
                throw new ProtocolViolationException("RowDescription too short");
            }
            int table = body.readInt();
            int attnum = body.readShort();
            int type = body.readInt();
            body.skipBytes(6); // typlen, typmod
            int format = body.readShort();
            fields.add(new Field(name, table, attnum, type, format));
        }
        return fields;
    }

    /**
     * The byte ranges of a DataRow's ('D') values, as (offset, length) pairs relative to the
     * frame's reader index; length -1 is NULL. Checked against the frame's size.
     */
    public static int[] dataRowValues(ByteBuf frame) {
        ByteBuf body = body(frame);
        if (body.readableBytes() < 2) {
            throw new ProtocolViolationException("DataRow too short");
        }
        int count = body.readUnsignedShort();
        int[] ranges = new int[count * 2];
        for (int i = 0; i < count; i++) {
            if (body.readableBytes() < 4) {
                throw new ProtocolViolationException("DataRow too short");
            }
            int length = body.readInt();
            ranges[2 * i] = BODY + body.readerIndex();
            ranges[2 * i + 1] = length;
            if (length > 0) {
                if (length > body.readableBytes()) {
                    throw new ProtocolViolationException("DataRow value runs past the message");
                }
                body.skipBytes(length);
            } else if (length < -1) {
                throw new ProtocolViolationException("DataRow value with a negative length");
            }
        }
        return ranges;
    }

    /** A NotificationResponse's fields. */
    public record Notification(int processId, String channel, String payload) {
    }

    public static Notification notification(ByteBuf frame) {
        ByteBuf body = body(frame);
        if (body.readableBytes() < 4) {
            throw new ProtocolViolationException("NotificationResponse too short");
        }
        int pid = body.readInt();
        return new Notification(pid, cString(body), cString(body));
    }

    /** A text-format DataRow's values as strings (null for NULL). */
    public static List<String> dataRowTexts(ByteBuf frame) {
        int[] ranges = dataRowValues(frame);
        List<String> values = new ArrayList<>(ranges.length / 2);
        for (int i = 0; i < ranges.length; i += 2) {
            values.add(ranges[i + 1] < 0 ? null
                    : frame.toString(frame.readerIndex() + ranges[i], ranges[i + 1], StandardCharsets.UTF_8));
        }
        return values;
    }

    /**
     * A Bind's parameter values (null for NULL) and their format codes (empty: all text; one:
     * for all; else one each). Read off the hot path (the recording writer), so it copies.
     */
    public record BindParameters(short[] formats, List<byte[]> values) {
        /** Whether value {@code i} is in binary format. */
        public boolean binary(int i) {
            return formats.length == 1 ? formats[0] == 1 : i < formats.length && formats[i] == 1;
        }
    }

    public static BindParameters bindParameters(ByteBuf frame) {
        ByteBuf body = body(frame);
        cString(body);
        cString(body);
        try {
            int formatCount = body.readUnsignedShort();
            short[] formats = new short[formatCount];
            for (int i = 0; i < formatCount; i++) {
                formats[i] = body.readShort();
            }
            int params = body.readUnsignedShort();
            List<byte[]> values = new ArrayList<>(params);
            for (int i = 0; i < params; i++) {
                int length = body.readInt();
                if (length < 0) {
                    values.add(null);
                } else {
                    byte[] value = new byte[length];
                    body.readBytes(value);
                    values.add(value);
                }
            }
            return new BindParameters(formats, values);
        } catch (IndexOutOfBoundsException e) {
            throw new ProtocolViolationException("Bind message too short");
        }
    }

    /** Bind's result-column format codes: empty (all text), one (for all), or one per column. */
    public static short[] bindResultFormats(ByteBuf frame) {
        ByteBuf body = body(frame);
        cString(body);
        cString(body);
        int paramFormats = body.readUnsignedShort();
        body.skipBytes(2 * paramFormats);
        int params = body.readUnsignedShort();
        for (int i = 0; i < params; i++) {
            int length = body.readInt();
            if (length > 0) {
                body.skipBytes(length);
            }
        }
        int n = body.readUnsignedShort();
        short[] formats = new short[n];
        for (int i = 0; i < n; i++) {
            formats[i] = body.readShort();
        }
        return formats;
    }

    /** ErrorResponse / NoticeResponse fields by their one-letter codes (S, V, C, M, D, H, ...). */
    public static Map<Character, String> errorFields(ByteBuf frame) {
        ByteBuf body = body(frame);
        Map<Character, String> fields = new LinkedHashMap<>();
        while (body.isReadable()) {
            byte code = body.readByte();
            if (code == 0) {
                break;
            }
            fields.put((char) code, cString(body));
        }
        return fields;
    }

    /** Whether an ErrorResponse is FATAL or PANIC, i.e. the server ends the connection after it. */
    public static boolean isFatal(ByteBuf frame) {
        Map<Character, String> f = errorFields(frame);
        String severity = f.getOrDefault('V', f.getOrDefault('S', ""));
        return severity.equals("FATAL") || severity.equals("PANIC");
    }

    private static ByteBuf body(ByteBuf frame) {
        return frame.slice(frame.readerIndex() + BODY, frame.readableBytes() - BODY);
    }

    private static void requireBody(ByteBuf frame, int bytes) {
        if (frame.readableBytes() - BODY < bytes) {
            throw new ProtocolViolationException("message too short");
        }
    }

    static String cString(ByteBuf body) {
        return cString(body, "invalid string in message: missing terminator");
    }

    /**
     * Reads a NUL-terminated UTF-8 string, advancing the reader index past the NUL.
     *
     * @param missingTerminator the client-facing message when there is no NUL
     */
    /** A NUL-terminated string that must be valid UTF-8 (statement text the gateway analyses). */
    static String strictCString(ByteBuf body, String missingTerminator) {
        int end = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new ProtocolViolationException(missingTerminator);
        }
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(body.nioBuffer(body.readerIndex(), end - body.readerIndex())).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new InvalidTextException();
        }
        body.readerIndex(end + 1);
        return s;
    }

    static String cString(ByteBuf body, String missingTerminator) {
        int end = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new ProtocolViolationException(missingTerminator);
        }
        String s = body.toString(body.readerIndex(), end - body.readerIndex(), StandardCharsets.UTF_8);
        body.readerIndex(end + 1);
        return s;
    }
}
