package io.pgwarden.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.config.GatewayConfig.UpstreamTlsMode;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.FrontendMessages;
import io.pgwarden.wire.MessageFrameDecoder;
import io.pgwarden.wire.MessageReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Drives one upstream connection from TCP connect to its first ReadyForQuery: optional
 * SSLRequest and TLS handshake, StartupMessage, authentication, then collecting
 * ParameterStatus, NoticeResponse and BackendKeyData. Then it asks for the effective
 * search_path (the schemas an unqualified name can resolve to, which policy checks need;
 * only the server knows what ALTER ROLE/DATABASE ... SET and the startup options made of
 * it). On success it removes itself and completes the promise; the session then installs
 * its relay handler.
 */
final class UpstreamHandshakeHandler extends ChannelInboundHandlerAdapter {
    /** Upstream messages (DataRows) may be as large as PostgreSQL allows: 1 GiB. */
    static final int MAX_UPSTREAM_MESSAGE = (1 << 30) + 5;

    private enum State { AWAIT_SSL_RESPONSE, LOGGING_IN, PROBING_SEARCH_PATH, DONE }

    /** One row per schema of the effective search_path that exists and may be used, in order. */
    static final String SEARCH_PATH_PROBE = "SELECT pg_catalog.unnest(pg_catalog.current_schemas(false))";

    private final Upstream upstream;
    private final SslContext tls;
    private final Map<String, String> startupParameters;
    private final UpstreamAuthExchange auth;
    private final Promise<UpstreamConnection> promise;
    private final List<ByteBuf> startupMessages = new ArrayList<>();
    private MessageReader.BackendKey backendKey;
    private final List<String> searchPath = new ArrayList<>();
    /** A second query the session needs answered before it starts (the masking catalog), or null. */
    private final String extraProbe;
    private final List<List<String>> extraRows = new ArrayList<>();
    private int probesCompleted;
    private State state;
    private ChannelHandlerContext ctx;

    UpstreamHandshakeHandler(Upstream upstream, SslContext tls, Map<String, String> startupParameters,
                             UpstreamAuthExchange auth, Promise<UpstreamConnection> promise, String extraProbe) {
        this.extraProbe = extraProbe;
        this.upstream = upstream;
        this.tls = tls;
        this.startupParameters = startupParameters;
        this.auth = auth;
        this.promise = promise;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (tls != null) {
            state = State.AWAIT_SSL_RESPONSE;
            ctx.writeAndFlush(FrontendMessages.sslRequest(ctx.alloc()));
        } else {
            startLogin(ctx);
        }
        ctx.fireChannelActive();
    }

    private void startLogin(ChannelHandlerContext ctx) {
        state = State.LOGGING_IN;
        ctx.pipeline().addBefore(ctx.name(), UpstreamConnection.LOGIN_FRAME_DECODER, new MessageFrameDecoder(MAX_UPSTREAM_MESSAGE));
        ctx.writeAndFlush(FrontendMessages.startupMessage(ctx.alloc(), startupParameters));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            if (state == State.AWAIT_SSL_RESPONSE) {
                sslResponse(ctx, buf);
            } else if (state == State.LOGGING_IN) {
                loginMessage(ctx, buf);
            } else if (state == State.PROBING_SEARCH_PATH) {
                probeAnswer(ctx, buf);
            }
        } catch (UpstreamException e) {
            fail(e);
        } catch (RuntimeException e) {
            fail(new UpstreamException("upstream " + upstream.name() + " sent an invalid start-up message: " + e.getMessage(), e));
        } finally {
            buf.release();
        }
    }

    private void sslResponse(ChannelHandlerContext ctx, ByteBuf buf) throws UpstreamException {
        byte answer = buf.readByte();
        // A server (or a man in the middle) that sends bytes behind its 'S' would have them
        // read as if they had come over TLS (CVE-2021-23222).
        if (buf.isReadable()) {
            throw new UpstreamException("upstream " + upstream.name() + " sent unencrypted data after its SSL response");
        }
        if (answer == 'S') {
            SslHandler ssl = tls.newHandler(ctx.alloc(), upstream.host(), upstream.port());
            ctx.pipeline().addFirst("tls", ssl);
            ssl.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                    startLogin(ctx);
                } else {
                    fail(new UpstreamException("TLS handshake with upstream " + upstream.name() + " failed: "
                            + f.cause().getMessage(), f.cause()));
                }
            });
        } else if (answer == 'N') {
            if (upstream.tls() != UpstreamTlsMode.PREFER) {
                throw new UpstreamException("upstream " + upstream.name() + " does not accept TLS but tls is "
                        + upstream.tls().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
            }
            startLogin(ctx);
        } else {
            throw new UpstreamException("upstream " + upstream.name() + " answered the SSL request with an unexpected byte");
        }
    }

    private void loginMessage(ChannelHandlerContext ctx, ByteBuf frame) throws UpstreamException {
        switch (MessageReader.type(frame)) {
            case BackendMessages.AUTHENTICATION -> {
                ByteBuf reply = auth.respond(ctx.alloc(), frame);
                if (reply != null) {
                    ctx.writeAndFlush(reply);
                }
            }
            case BackendMessages.PARAMETER_STATUS, BackendMessages.NOTICE_RESPONSE -> startupMessages.add(frame.retain());
            case BackendMessages.BACKEND_KEY_DATA -> backendKey = MessageReader.backendKeyData(frame);
            case BackendMessages.NEGOTIATE_PROTOCOL_VERSION -> {
                // We ask for 3.0 with no _pq_ options; a server may still say so. Nothing to adapt.
            }
            case BackendMessages.ERROR_RESPONSE -> {
                Map<Character, String> f = MessageReader.errorFields(frame);
                throw new UpstreamException("upstream " + upstream.name() + " refused the login: "
                        + f.getOrDefault('C', "?") + " " + f.getOrDefault('M', ""));
            }
            case BackendMessages.READY_FOR_QUERY -> {
                if (!auth.done()) {
                    throw new UpstreamException("upstream " + upstream.name() + " became ready before authentication completed");
                }
                if (backendKey == null) {
                    // Without a key nobody can cancel this session's queries; PostgreSQL always sends one.
                    throw new UpstreamException("upstream " + upstream.name() + " sent no BackendKeyData");
                }
                state = State.PROBING_SEARCH_PATH;
                ctx.writeAndFlush(FrontendMessages.query(ctx.alloc(),
                        extraProbe == null ? SEARCH_PATH_PROBE : SEARCH_PATH_PROBE + ";\n" + extraProbe));
            }
            default -> throw new UpstreamException("upstream " + upstream.name() + " sent message type '"
                    + (char) MessageReader.type(frame) + "' during login");
        }
    }

    private void probeAnswer(ChannelHandlerContext ctx, ByteBuf frame) throws UpstreamException {
        switch (MessageReader.type(frame)) {
            case BackendMessages.DATA_ROW -> {
                if (probesCompleted == 0) {
                    searchPath.add(MessageReader.firstColumnText(frame));
                } else {
                    extraRows.add(MessageReader.dataRowTexts(frame));
                }
            }
            case BackendMessages.COMMAND_COMPLETE -> probesCompleted++;
            case BackendMessages.ROW_DESCRIPTION -> {
            }
            // A setting reported now (rare) belongs with the start-up ones the client is shown.
            case BackendMessages.PARAMETER_STATUS, BackendMessages.NOTICE_RESPONSE -> startupMessages.add(frame.retain());
            case BackendMessages.ERROR_RESPONSE -> {
                Map<Character, String> f = MessageReader.errorFields(frame);
                throw new UpstreamException("upstream " + upstream.name() + " could not report its search_path"
                        + (extraProbe == null ? "" : " or the masked columns of the policy") + ": "
                        + f.getOrDefault('C', "?") + " " + f.getOrDefault('M', ""));
            }
            case BackendMessages.READY_FOR_QUERY -> {
                state = State.DONE;
                ctx.pipeline().remove(this);
                if (!promise.trySuccess(new UpstreamConnection(ctx.channel(), List.copyOf(startupMessages), backendKey,
                        MessageReader.readyForQueryStatus(frame), List.copyOf(searchPath), List.copyOf(extraRows)))) {
                    releaseStartupMessages();
                    ctx.close();
                }
            }
            default -> throw new UpstreamException("upstream " + upstream.name() + " sent message type '"
                    + (char) MessageReader.type(frame) + "' while reporting its search_path");
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(new UpstreamException("upstream " + upstream.name() + " closed the connection during login"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(new UpstreamException("upstream " + upstream.name() + " connection failed during login: " + cause.getMessage(), cause));
    }

    /** The connector gave up (timeout): close without touching the promise again. */
    void abandon() {
        if (ctx != null) {
            ctx.close();
        }
    }

    private void fail(UpstreamException e) {
        if (state != State.DONE && promise.tryFailure(e)) {
            releaseStartupMessages();
        }
        if (ctx != null) {
            ctx.close();
        }
    }

    private void releaseStartupMessages() {
        startupMessages.forEach(ReferenceCountUtil::safeRelease);
        startupMessages.clear();
    }
}
