package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.MessageBoundaryScanner;
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

    private final FrontendSession session;
    private final Channel client;
    private final MessageBoundaryScanner scanner = new MessageBoundaryScanner(this::messageStarts);
    private boolean flushClient;

    BackendRelay(FrontendSession session, Channel client) {
        this.session = session;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf chunk = (ByteBuf) msg;
        try {
            scanner.scan(chunk);
        } catch (ProtocolViolationException e) {
            chunk.release();
            LOG.warn("session {}: upstream protocol violation: {}", session.id(), e.getMessage());
            ctx.close();
            return;
        }
        client.write(chunk, client.voidPromise());
        flushClient = true;
    }

    private void messageStarts(byte type, ByteBuf whole) {
        switch (type) {
            case BackendMessages.READY_FOR_QUERY -> session.upstreamActivity(true, false);
            // A FATAL split across reads is not recognised; the only effect is that the client
            // also gets the gateway's own "connection lost" error after the server's.
            case BackendMessages.ERROR_RESPONSE -> session.upstreamActivity(false, whole != null && MessageReader.isFatal(whole));
            case BackendMessages.BACKEND_KEY_DATA ->
                    // The client holds the gateway's secret; the upstream's must never reach it.
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
