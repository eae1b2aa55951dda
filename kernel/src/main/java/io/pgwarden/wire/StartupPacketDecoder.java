package io.pgwarden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes exactly one {@link StartupPacket} per call and then stops, because what follows
 * depends on the answer: after an SSLRequest the next bytes must be a TLS handshake. The
 * session removes or re-arms this decoder after each packet.
 */
public final class StartupPacketDecoder extends ByteToMessageDecoder {
    /** PostgreSQL's own cap (MAX_STARTUP_PACKET_LENGTH in src/include/libpq/pqcomm.h). */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;

    static final int SSL_REQUEST_CODE = 80877103;
    static final int GSSENC_REQUEST_CODE = 80877104;
    static final int CANCEL_REQUEST_CODE = 80877102;

    /** PostgreSQL's own wording (ProcessStartupPacket in src/backend/postmaster/postmaster.c). */
    private static final String LAYOUT_ERROR = "invalid startup packet layout: expected terminator as last byte";

    public StartupPacketDecoder() {
        setSingleDecode(true);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        StartupPacket packet;
        try {
            packet = decode(in);
        } catch (ProtocolViolationException e) {
            // Drop what is left, as MessageFrameDecoder does: otherwise the same bytes are
            // decoded again when the channel closes and the violation is raised twice.
            in.skipBytes(in.readableBytes());
            throw e;
        }
        if (packet != null) {
            out.add(packet);
        }
    }

    /** Decodes one packet from {@code in}, or returns null when more bytes are needed. */
    public static StartupPacket decode(ByteBuf in) {
        if (in.readableBytes() < 8) {
            return null;
        }
        int start = in.readerIndex();
        int length = in.getInt(start);
        if (length < 8 || length > MAX_STARTUP_PACKET_LENGTH) {
            throw new ProtocolViolationException("invalid length of startup packet");
        }
        if (in.readableBytes() < length) {
            return null;
        }
        int code = in.getInt(start + 4);
        ByteBuf body = in.slice(start + 8, length - 8);
        in.skipBytes(length);
        return switch (code) {
            case SSL_REQUEST_CODE -> {
                requireLength(length, 8);
                // Bytes behind an SSLRequest would be read as if they had come over TLS
                // (CVE-2021-23214): nothing may follow until our answer.
                if (in.isReadable()) {
                    throw new ProtocolViolationException("received unencrypted data after SSL request");
                }
                yield new StartupPacket.SslRequest();
            }
            case GSSENC_REQUEST_CODE -> {
                requireLength(length, 8);
                if (in.isReadable()) {
                    throw new ProtocolViolationException("received unencrypted data after GSSAPI encryption request");
                }
                yield new StartupPacket.GssEncRequest();
            }
            case CANCEL_REQUEST_CODE -> {
                requireLength(length, 16);
                yield new StartupPacket.CancelRequest(body.getInt(0), body.getInt(4));
            }
            default -> startupMessage(code, body);
        };
    }

    private static void requireLength(int length, int expected) {
        if (length != expected) {
            throw new ProtocolViolationException("invalid length of startup packet");
        }
    }

    private static StartupPacket startupMessage(int code, ByteBuf body) {
        int major = code >>> 16;
        int minor = code & 0xFFFF;
        if (major != 3) {
            throw ProtocolViolationException.unsupportedVersion("unsupported frontend protocol " + major + "." + minor
                    + ": server supports 3.0 to 3.0");
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            String name = MessageReader.cString(body, LAYOUT_ERROR);
            if (name.isEmpty()) {
                break;
            }
            String value = MessageReader.cString(body, LAYOUT_ERROR);
            parameters.put(name, value);
        }
        if (body.isReadable()) {
            throw new ProtocolViolationException(LAYOUT_ERROR);
        }
        return new StartupPacket.StartupMessage(major, minor, parameters);
    }
}
