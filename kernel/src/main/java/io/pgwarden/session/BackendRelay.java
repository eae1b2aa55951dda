package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgwarden.wire.BackendMessageScanner;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.ProtocolViolationException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream → client half of a ready session. What the upstream sends is forwarded as
 * the very buffers it was read into: no copy, no per-message objects, one write per read.
 * The relay still reads the few small messages the session must see whole (command
 * completions, errors, ReadyForQuery: statement outcomes for the audit, refusals to put in
 * place of the upstream's error, idle tracking) and stops an upstream BackendKeyData from
 * ever reaching the client. When such a message is cut by the end of a read, its first
 * part waits for the rest instead of being forwarded.
 */
final class BackendRelay extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(BackendRelay.class);

    /** The largest DataRow the gateway masks (memory per session); PostgreSQL allows up to 1 GiB. */
    static final int MAX_MASKED_ROW = 256 << 20;

    private final FrontendSession session;
    private final Channel client;
    private final BackendMessageScanner scanner = new BackendMessageScanner(new BackendMessageScanner.Listener() {
        @Override
        public boolean wants(byte type) {
            return switch (type) {
                case BackendMessages.READY_FOR_QUERY, BackendMessages.ERROR_RESPONSE, BackendMessages.COMMAND_COMPLETE,
                     BackendMessages.EMPTY_QUERY_RESPONSE, BackendMessages.PORTAL_SUSPENDED,
                     BackendMessages.PARAMETER_STATUS, BackendMessages.BACKEND_KEY_DATA -> true;
                default -> session.wantsForMasking(type);
            };
        }

        @Override
        public boolean wants(byte type, int length) {
            return wants(type) || session.wantsForRecording(type, length);
        }

        @Override
        public int maxWhole(byte type) {
            // A masked row is rewritten whole; a larger one ends the session rather than pass unmasked.
            return type == BackendMessages.DATA_ROW ? MAX_MASKED_ROW : BackendMessageScanner.MAX_WHOLE_MESSAGE;
        }

        @Override
        public void message(byte type, int start, ByteBuf message) {
            if (type == BackendMessages.BACKEND_KEY_DATA) {
                // The client holds the gateway's secret; the upstream's must never reach it.
                throw new ProtocolViolationException("BackendKeyData after start-up");
            }
            ByteBuf replacement = session.upstreamMessage(type, message);
            session.sentToClient(type, replacement != null ? replacement : message);
            if (replacement != null) {
                replacements.add(new Replacement(start, message.readableBytes(), replacement));
            }
        }
    });
    /** Messages of the current read that the session replaces, in order. */
    private final List<Replacement> replacements = new ArrayList<>(2);
    /** The start of a message cut by the end of the last read, waiting for its rest. */
    private ByteBuf heldBack;
    private boolean flushClient;

    private record Replacement(int start, int length, ByteBuf with) {
    }

    BackendRelay(FrontendSession session, Channel client) {
        this.session = session;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf read = (ByteBuf) msg;
        if (heldBack != null) {
            read = ctx.alloc().compositeBuffer(2).addComponents(true, heldBack, read);
            heldBack = null;
        }
        int keepFrom;
        try {
            keepFrom = scanner.scan(read);
        } catch (ProtocolViolationException e) {
            read.release();
            replacements.forEach(r -> r.with().release());
            replacements.clear();
            LOG.warn("session {}: upstream protocol violation: {}", session.id(), e.getMessage());
            ctx.close();
            return;
        }
        if (!session.relaying()) {
            // The session ended while this read was scanned (it changed client_encoding): nothing more reaches the client.
            read.release();
            replacements.forEach(r -> r.with().release());
            replacements.clear();
            return;
        }
        int end = read.writerIndex();
        if (replacements.isEmpty() && keepFrom == end) {
            client.write(read, client.voidPromise());
        } else {
            int at = read.readerIndex();
            for (Replacement r : replacements) {
                writeSlice(read, at, r.start());
                client.write(r.with(), client.voidPromise());
                at = r.start() + r.length();
            }
            replacements.clear();
            writeSlice(read, at, keepFrom);
            if (keepFrom < end) {
                heldBack = read.copy(keepFrom, end - keepFrom);
            }
            read.release();
        }
        flushClient = true;
    }

    private void writeSlice(ByteBuf read, int from, int to) {
        if (to > from) {
            client.write(read.retainedSlice(from, to - from), client.voidPromise());
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
        if (heldBack != null) {
            // The upstream went away in the middle of a message: the client gets no half of it.
            heldBack.release();
            heldBack = null;
        }
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
