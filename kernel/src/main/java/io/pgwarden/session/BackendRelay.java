package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.MessageReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream → client half of a ready session. Frames pass as the same bytes; only the
 * type byte is looked at, and an ErrorResponse's severity. Writes are flushed once per
 * read batch, so a result of many rows goes out in few system calls.
 */
final class BackendRelay extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(BackendRelay.class);

    private final FrontendSession session;
    private final Channel client;
    private boolean flushClient;

    BackendRelay(FrontendSession session, Channel client) {
        this.session = session;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        byte type = MessageReader.type(frame);
        if (type == BackendMessages.READY_FOR_QUERY) {
            session.upstreamActivity(true, false);
        } else if (type == BackendMessages.ERROR_RESPONSE) {
            session.upstreamActivity(false, MessageReader.isFatal(frame));
        } else if (type == BackendMessages.BACKEND_KEY_DATA) {
            // The client holds the gateway's key; the upstream's must never reach it.
            frame.release();
            return;
        }
        client.write(frame, client.voidPromise());
        flushClient = true;
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
