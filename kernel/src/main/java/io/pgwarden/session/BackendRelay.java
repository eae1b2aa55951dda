package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.MessageReader;
import io.pgwarden.wire.ProtocolViolationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream → client half of a ready session. What the upstream sends is forwarded as
 * the very buffers it was read into: no copy, no per-message objects, one write per read.
 * The relay still walks the message headers as they pass, because the session needs to
 * see each ReadyForQuery (idle tracking) and each ErrorResponse (FATAL before a close),
 * and must stop an upstream BackendKeyData from ever reaching the client.
 */
final class BackendRelay extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(BackendRelay.class);
    private static final int HEADER = 5;

    private final FrontendSession session;
    private final Channel client;
    /** Body bytes of the current message that are still to come in later reads. */
    private int remainingBody;
    /** A message header split across two reads. */
    private final byte[] partialHeader = new byte[HEADER];
    private int partialHeaderLength;
    private boolean flushClient;

    BackendRelay(FrontendSession session, Channel client) {
        this.session = session;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf chunk = (ByteBuf) msg;
        try {
            scan(chunk);
        } catch (ProtocolViolationException e) {
            chunk.release();
            LOG.warn("session {}: upstream protocol violation: {}", session.id(), e.getMessage());
            ctx.close();
            return;
        }
        client.write(chunk, client.voidPromise());
        flushClient = true;
    }

    /** Walks the message boundaries in one read, carrying a split header or body to the next. */
    private void scan(ByteBuf chunk) {
        int at = chunk.readerIndex();
        int end = chunk.writerIndex();
        int skip = Math.min(remainingBody, end - at);
        at += skip;
        remainingBody -= skip;
        while (at < end) {
            byte type;
            int length;
            int bodyStart;
            if (partialHeaderLength > 0 || end - at < HEADER) {
                int take = Math.min(HEADER - partialHeaderLength, end - at);
                chunk.getBytes(at, partialHeader, partialHeaderLength, take);
                partialHeaderLength += take;
                at += take;
                if (partialHeaderLength < HEADER) {
                    return;
                }
                partialHeaderLength = 0;
                type = partialHeader[0];
                length = ((partialHeader[1] & 0xFF) << 24) | ((partialHeader[2] & 0xFF) << 16)
                        | ((partialHeader[3] & 0xFF) << 8) | (partialHeader[4] & 0xFF);
                bodyStart = at;
                messageStarts(type, null);
            } else {
                type = chunk.getByte(at);
                length = chunk.getInt(at + 1);
                bodyStart = at + HEADER;
                if (length >= 4 && bodyStart + length - 4 <= end) {
                    messageStarts(type, chunk.slice(at, HEADER + length - 4));
                } else {
                    messageStarts(type, null);
                }
            }
            if (length < 4) {
                throw new ProtocolViolationException("invalid message length " + length);
            }
            int body = length - 4;
            int available = Math.min(body, end - bodyStart);
            at = bodyStart + available;
            remainingBody = body - available;
        }
    }

    /** @param whole the complete message when it lies within this read, else null */
    private void messageStarts(byte type, ByteBuf whole) {
        switch (type) {
            case BackendMessages.READY_FOR_QUERY -> session.upstreamActivity(true, false);
            // A FATAL split across reads is not recognised; the only effect is that the client
            // also gets the gateway's own "connection lost" error after the server's.
            case BackendMessages.ERROR_RESPONSE -> session.upstreamActivity(false, whole != null && MessageReader.isFatal(whole));
            case BackendMessages.BACKEND_KEY_DATA ->
                    // The client holds the gateway's key; the upstream's must never reach it.
                    throw new ProtocolViolationException("BackendKeyData after start-up");
            default -> {
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (flushClient) {
            flushClient = false;
            client.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // The upstream cannot take more: stop reading from the client until it can.
        client.config().setAutoRead(ctx.channel().isWritable());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (flushClient) {
            flushClient = false;
            client.flush();
        }
        session.upstreamClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("session {}: upstream connection failed: {}", session.id(), cause.toString());
        ctx.close();
    }
}
