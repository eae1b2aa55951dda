package io.pgwarden.jit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.pgwarden.upstream.UpstreamConnection;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.FrontendMessages;
import io.pgwarden.wire.MessageReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;

/**
 * The gateway's own session on an upstream, logged in with its vault credential, on which
 * it creates and drops the sessions' roles. Queries are simple-protocol Query messages,
 * pipelined: PostgreSQL answers them in order, each up to its ReadyForQuery, so one
 * connection serves every session's role changes without waiting for the previous one's
 * round trip. An error in one query does not affect the next (each Query is its own
 * implicit transaction).
 *
 * <p>Lives on its channel's event loop; {@link #query} may be called from any thread.
 */
final class ControlConnection extends ChannelInboundHandlerAdapter {
    private final Channel channel;
    private final String upstream;
    /** Sent and not yet answered, in order; touched on the event loop only. */
    private final Queue<Pending> pending = new ArrayDeque<>();

    private static final class Pending {
        final CompletableFuture<List<String>> result = new CompletableFuture<>();
        final List<String> firstColumn = new ArrayList<>();
        final String what;
        Map<Character, String> error;

        Pending(String what) {
            this.what = what;
        }
    }

    private ControlConnection(Channel channel, String upstream) {
        this.channel = channel;
        this.upstream = upstream;
    }

    /** Takes over a logged-in connection: its login frame decoder stays and frames what follows. */
    static ControlConnection attach(UpstreamConnection connection, String upstream) {
        connection.startupMessages().forEach(ReferenceCountUtil::safeRelease);
        ControlConnection control = new ControlConnection(connection.channel(), upstream);
        connection.channel().pipeline().addLast("jit-control", control);
        return control;
    }

    boolean isOpen() {
        return channel.isActive();
    }

    /**
     * Runs one statement; the future holds the first column of its rows, or fails with a
     * {@link JitException} carrying the SQLSTATE.
     *
     * @param what what the statement does, for the error message (never the SQL: it may hold a password verifier)
     */
    CompletableFuture<List<String>> query(String sql, String what) {
        Pending p = new Pending(what);
        channel.eventLoop().execute(() -> {
            if (!channel.isActive()) {
                p.result.completeExceptionally(new JitException("the control connection to upstream " + upstream + " is closed", (String) null));
                return;
            }
            pending.add(p);
            channel.writeAndFlush(FrontendMessages.query(channel.alloc(), sql));
        });
        return p.result;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            Pending head = pending.peek();
            switch (MessageReader.type(frame)) {
                case BackendMessages.DATA_ROW -> {
                    if (head != null) {
                        head.firstColumn.add(MessageReader.firstColumnText(frame));
                    }
                }
                case BackendMessages.ERROR_RESPONSE -> {
                    if (head != null) {
                        head.error = MessageReader.errorFields(frame);
                    }
                }
                case BackendMessages.READY_FOR_QUERY -> {
                    Pending done = pending.poll();
                    if (done != null) {
                        complete(done);
                    }
                }
                default -> {
                    // RowDescription, CommandComplete, notices, parameter changes: nothing to keep
                }
            }
        } finally {
            frame.release();
        }
    }

    private void complete(Pending p) {
        if (p.error == null) {
            p.result.complete(List.copyOf(p.firstColumn));
        } else {
            String state = p.error.getOrDefault('C', "?");
            p.result.completeExceptionally(new JitException(p.what + " on upstream " + upstream + " failed: " + state + " "
                    + p.error.getOrDefault('M', ""), state));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Pending p;
        while ((p = pending.poll()) != null) {
            p.result.completeExceptionally(new JitException("the control connection to upstream " + upstream
                    + " closed before " + p.what + " was answered", (String) null));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    void close() {
        if (channel.isActive()) {
            channel.writeAndFlush(FrontendMessages.terminate(channel.alloc())).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
