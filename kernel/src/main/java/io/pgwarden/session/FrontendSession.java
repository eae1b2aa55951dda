package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.approval.ApprovalOutcome;
import io.pgwarden.approval.ApprovalRecord;
import io.pgwarden.approval.Approvals;
import io.pgwarden.approval.HeldStatement;
import io.pgwarden.audit.SessionContext;
import io.pgwarden.config.GatewayConfig.ClientTlsMode;
import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.plugin.api.Credentials;
import io.pgwarden.plugin.api.Identity;
import io.pgwarden.policy.PolicySelector;
import io.pgwarden.recording.SessionFacts;
import io.pgwarden.recording.SessionRecorder;
import io.pgwarden.tls.ServerTls;
import io.pgwarden.jit.JitRole;
import io.pgwarden.jit.JitRoles;
import io.pgwarden.upstream.UpstreamConnection;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.ClientEncodings;
import io.pgwarden.wire.FrontendMessages;
import io.pgwarden.wire.MessageFrameDecoder;
import io.pgwarden.wire.MessageReader;
import io.pgwarden.wire.MessageReader.BackendKey;
import io.pgwarden.wire.ProtocolViolationException;
import io.pgwarden.wire.StartupPacket;
import io.pgwarden.wire.StartupPacketDecoder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and the session it carries, as a state machine:
 * startup (TLS, startup packet) → password → authenticating → connecting upstream →
 * ready (relaying) → closed. Runs on the client channel's event loop; the upstream channel
 * shares that loop, so no state here is touched by two threads. Blocking plugin calls
 * happen on the services' executor and come back to the loop.
 */
public final class FrontendSession extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(FrontendSession.class);
    /** Frames a client may pipeline before the session is ready; libpq and pgjdbc send none. */
    private static final int MAX_EARLY_FRAMES = 1024;

    enum State { STARTUP, AWAIT_PASSWORD, AUTHENTICATING, CONNECTING, READY, CLOSED }

    private final SessionServices services;
    private final boolean overConnectionLimit;
    private final String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    private State state = State.STARTUP;
    private ChannelHandlerContext ctx;
    private String clientAddress = "?";
    private Policy policy;
    private StatementTracker statements;
    private StatementAudit audit;
    /** Records the session when recording.enabled; null when not, or before the session is ready. */
    private SessionRecorder recorder;
    /** Why the session ended, for the audit trail. */
    private String endReason = "client disconnected";
    /** A statement's record is not durable yet: what the client sent since waits here, in order. */
    private boolean recordPending;
    private final Queue<ByteBuf> awaitingRecord = new ArrayDeque<>();
    /**
     * A statement waits for a person's decision (DESIGN §8); what the client sends meanwhile
     * waits in awaitingRecord, except a Terminate, which withdraws the request. Null when none.
     */
    private Approvals.Hold approval;
    /** Set once, when the session becomes ready; read by the admin API from other threads. */
    private volatile SessionInfo info;
    private Map<String, String> startupParameters = Map.of();
    private String user;
    private String database;
    private Identity identity;
    private Upstream upstream;
    /** The role made for this session when its upstream uses JIT roles; dropped at close. */
    private JitRole jitRole;
    private Channel upstreamChannel;
    private BackendKey upstreamKey;
    /** The gateway's cancel secret given to the client (the process id is the upstream's). */
    private int secretKey;
    private boolean registered;
    private final Queue<ByteBuf> earlyFrames = new ArrayDeque<>();
    private ScheduledFuture<?> startupTimer;
    private ScheduledFuture<?> idleTimer;
    private ScheduledFuture<?> lifetimeTimer;
    /** Requests (Query, Sync, FunctionCall) sent upstream and not yet answered by ReadyForQuery. */
    private int pendingRequests;
    /**
     * Extended-protocol messages sent since the last Sync (say Execute and a Flush, as libpq's
     * pipeline mode sends): no ReadyForQuery answers them until that Sync, and PostgreSQL
     * does not count the session idle meanwhile (it arms idle_session_timeout after
     * ReadyForQuery only), so neither does the gateway.
     */
    private boolean unsyncedWork;
    private long lastActivityNanos;
    private boolean flushUpstream;
    private boolean upstreamSentFatal;
    /** TLS was started by an SSLRequest; otherwise the client opened with TLS directly (PostgreSQL 17). */
    private boolean tlsFromSslRequest;
    /** The client sent Terminate; the upstream ends the connection once it has answered what came before. */
    private boolean clientTerminated;

    /**
     * @param overConnectionLimit the gateway is full: refuse with 53300 once the client can
     *                            read an error (after TLS, at its startup message)
     */
    public FrontendSession(SessionServices services, boolean overConnectionLimit) {
        this.services = services;
        this.overConnectionLimit = overConnectionLimit;
    }

    public String id() {
        return id;
    }

    // ---- lifecycle -------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress a) {
            clientAddress = a.getAddress().getHostAddress();
        }
        startupTimer = ctx.executor().schedule(() -> {
            if (state != State.READY && state != State.CLOSED) {
                LOG.info("session {}: client {} did not complete start-up in time", id, clientAddress);
                fatal(ClientError.startupTimeout());
            }
        }, services.config().limits().startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == State.READY) {
            LOG.info("session {}: client {} disconnected", id, clientAddress);
        }
        close();
        ctx.fireChannelInactive();
    }

    /** Ends the session: cancels timers, releases queued frames, says goodbye upstream. */
    private void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        if (lifetimeTimer != null) {
            lifetimeTimer.cancel(false);
        }
        releaseEarlyFrames();
        if (approval != null) {
            approval.withdraw("the session ended (" + endReason + ")");
        }
        awaitingRecord.forEach(ReferenceCountUtil::safeRelease);
        awaitingRecord.clear();
        if (audit != null) {
            audit.sessionEnded(endReason);
        }
        if (recorder != null) {
            recorder.ended(endReason);
        }
        if (registered) {
            services.registry().remove(upstreamKey.processId(), secretKey, this);
        }
        if (upstreamChannel != null && upstreamChannel.isActive() && !clientTerminated
                && (pendingRequests > 0 || unsyncedWork) && upstreamKey != null) {
            // Closing the socket alone leaves a running statement to finish (PostgreSQL notices
            // a vanished client only when it next writes); cancel it, as a client would.
            services.upstreams().cancel(upstreamChannel.eventLoop(), upstream, upstreamKey.processId(), upstreamKey.secretKey());
        }
        if (upstreamChannel != null && upstreamChannel.isActive()) {
            // After the client's own Terminate (already relayed) a second one would only meet a closed socket.
            upstreamChannel.writeAndFlush(clientTerminated ? Unpooled.EMPTY_BUFFER : FrontendMessages.terminate(upstreamChannel.alloc()))
                    .addListener(ChannelFutureListener.CLOSE);
        }
        if (jitRole != null) {
            JitRole role = jitRole;
            if (upstreamChannel != null) {
                // Once the session's own connection is gone, so the drop does not have to end it.
                upstreamChannel.closeFuture().addListener(f -> services.jit().drop(role));
            } else {
                services.jit().drop(role);
            }
        }
    }

    /** Sends the error, closes the client after it is written, and ends the session. */
    void fatal(ClientError error) {
        Channel client = ctx.channel();
        endReason = "ended by the gateway: " + error.sqlState() + " " + error.message();
        ByteBuf message = client.isActive() ? error.encode(client.alloc()) : null;
        if (message != null && recorder != null && state == State.READY) {
            recorder.gatewaySent(message);
        }
        close();
        if (message != null) {
            client.writeAndFlush(message).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Ends the session from outside its event loop (shutdown). */
    public void terminate(ClientError error) {
        ctx.executor().execute(() -> fatal(error));
    }

    /**
     * Ends a ready session on an administrator's request (admin API, {@code pgwarden
     * sessions kill}); the client is told so with SQLSTATE 57P01.
     */
    public void kill(String requestedBy) {
        ctx.executor().execute(() -> {
            if (state == State.READY) {
                LOG.info("session {}: identity {} ended by {}", id, identity.name(), requestedBy);
                fatal(ClientError.terminatedByAdministrator());
            }
        });
    }

    /** The session's facts once it is ready; null before. Safe to call from any thread. */
    public SessionInfo info() {
        return info;
    }

    // ---- inbound ---------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (state) {
                case STARTUP -> startup((StartupPacket) msg);
                case AWAIT_PASSWORD -> password((ByteBuf) msg);
                case AUTHENTICATING, CONNECTING -> early((ByteBuf) msg);
                case READY -> relay((ByteBuf) msg);
                case CLOSED -> ReferenceCountUtil.release(msg);
            }
        } catch (ProtocolViolationException e) {
            protocolViolation(e);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        lastActivityNanos = System.nanoTime();
        if (flushUpstream) {
            flushUpstream = false;
            upstreamChannel.flush();
        }
        ctx.fireChannelReadComplete();
    }

    private void startup(StartupPacket packet) {
        if (directTlsWithoutAlpn()) {
            return;
        }
        switch (packet) {
            case StartupPacket.SslRequest r -> sslRequest();
            case StartupPacket.GssEncRequest r -> ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            case StartupPacket.CancelRequest c -> cancel(c);
            case StartupPacket.StartupMessage m -> startupMessage(m);
        }
    }

    private boolean isTls() {
        return ctx.pipeline().get(SslHandler.class) != null;
    }

    private void sslRequest() {
        if (services.tls() == null || isTls()) {
            // Already encrypted (direct TLS), or TLS turned off: PostgreSQL answers 'N' to the
            // latter; a second SSLRequest inside TLS is a protocol error there and here.
            if (isTls()) {
                throw new ProtocolViolationException("SSL request received on an encrypted connection");
            }
            ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            return;
        }
        // The 'S' must leave unencrypted, before the TLS handler is in place.
        tlsFromSslRequest = true;
        ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}));
        ctx.pipeline().addFirst("tls", services.tls().context().newHandler(ctx.alloc()));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
            directTlsWithoutAlpn();
        }
        ctx.fireUserEventTriggered(event);
    }

    /**
     * A direct TLS connection must have negotiated ALPN "postgresql", as PostgreSQL 17
     * requires (ProcessSSLStartup in backend_startup.c): it keeps a TLS connection meant for
     * another protocol from being taken as a PostgreSQL session (ALPACA-style cross-protocol
     * attacks). Like PostgreSQL, the gateway closes without a word: the peer may not speak
     * PostgreSQL at all. Checked when the handshake completes and again before any startup
     * packet, whichever comes first.
     *
     * @return true when the connection was refused
     */
    private boolean directTlsWithoutAlpn() {
        if (state == State.CLOSED || tlsFromSslRequest) {
            return false;
        }
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (tls == null || !tls.handshakeFuture().isSuccess()
                || ServerTls.ALPN_POSTGRESQL.equals(tls.applicationProtocol())) {
            return false;
        }
        LOG.info("session {}: {} opened a direct TLS connection without ALPN \"{}\"; closed", id, clientAddress,
                ServerTls.ALPN_POSTGRESQL);
        close();
        ctx.close();
        return true;
    }

    private void cancel(StartupPacket.CancelRequest request) {
        FrontendSession target = services.registry().byCancelKey(request.processId(), request.secretKey());
        if (target != null) {
            LOG.info("session {}: cancel request from {} forwarded to session {}", id, clientAddress, target.id);
            target.forwardCancel();
        } else {
            LOG.info("session {}: cancel request from {} matches no session", id, clientAddress);
        }
        close();
        ctx.close();
    }

    /** Called on another session's loop; hops to ours, where upstream state lives. */
    private void forwardCancel() {
        ctx.executor().execute(() -> {
            if (state == State.READY && approval != null) {
                LOG.info("session {}: the client cancelled the statement waiting for approval", id);
                approval.withdraw("the client cancelled it");
            } else if (state == State.READY && upstreamKey != null) {
                services.upstreams().cancel(ctx.channel().eventLoop(), upstream, upstreamKey.processId(), upstreamKey.secretKey());
            }
        });
    }

    private void startupMessage(StartupPacket.StartupMessage message) {
        startupParameters = message.parameters();
        user = startupParameters.get("user");
        if (overConnectionLimit) {
            LOG.warn("session {}: refused {}: limits.max_connections ({}) reached", id, clientAddress,
                    services.config().limits().maxConnections());
            fatal(ClientError.tooManyConnections());
            return;
        }
        if (StartupParameters.isReplication(startupParameters)) {
            LOG.info("session {}: refused a replication connection from {}", id, clientAddress);
            fatal(ClientError.replicationNotSupported());
            return;
        }
        if (user == null || user.isEmpty()) {
            LOG.info("session {}: refused a startup packet without a user name from {}", id, clientAddress);
            fatal(ClientError.noUserName());
            return;
        }
        database = startupParameters.getOrDefault("database", user);
        if (database.isEmpty()) {
            database = user;
        }
        if (!isTls() && services.config().listen().tls().mode() != ClientTlsMode.DISABLE) {
            LOG.info("session {}: refused plaintext start-up from {} (user {})", id, clientAddress, user);
            fatal(ClientError.tlsRequired());
            return;
        }
        var forbidden = StartupParameters.forbidden(startupParameters);
        if (forbidden.isPresent()) {
            LOG.warn("session {}: {} (user {}) sent forbidden startup parameter {}", id, clientAddress, user, forbidden.get());
            fatal(ClientError.forbiddenStartupParameter(forbidden.get()));
            return;
        }
        if (!services.authFailures().allows(clientAddress)) {
            LOG.warn("session {}: {} is over the failed-authentication limit; refused without a check", id, clientAddress);
            fatal(ClientError.tooManyAuthenticationFailures());
            return;
        }
        List<String> unsupported = startupParameters.keySet().stream().filter(k -> k.startsWith("_pq_.")).toList();
        if (message.minorVersion() > 0 || !unsupported.isEmpty()) {
            ctx.write(BackendMessages.negotiateProtocolVersion(ctx.alloc(), 0, unsupported));
        }
        ctx.writeAndFlush(BackendMessages.authentication(ctx.alloc(), BackendMessages.AUTH_CLEARTEXT_PASSWORD));
        // State first: replacing the decoder hands it any bytes already read behind the
        // startup message (a pipelined password), which reach channelRead at once.
        state = State.AWAIT_PASSWORD;
        ctx.pipeline().replace(StartupPacketDecoder.class, "frames",
                new MessageFrameDecoder((int) services.config().limits().maxMessageSize().longValue()));
    }

    private void password(ByteBuf frame) {
        String secret;
        try {
            if (MessageReader.type(frame) != FrontendMessages.PASSWORD) {
                fatal(ClientError.unexpectedMessage((char) MessageReader.type(frame), "a password response"));
                return;
            }
            secret = MessageReader.password(frame);
        } finally {
            frame.release();
        }
        // Checked again now that a credential is presented: connections opened before the
        // address reached the limit, and parked at the password prompt, must not each get a guess.
        if (!services.authFailures().allows(clientAddress)) {
            LOG.warn("session {}: {} reached the failed-authentication limit while at the password prompt", id, clientAddress);
            fatal(ClientError.tooManyAuthenticationFailures());
            return;
        }
        state = State.AUTHENTICATING;
        ctx.channel().config().setAutoRead(false);
        Credentials credentials = new Credentials(user, secret, database, clientAddress, startupParameters);
        services.blockingExecutor().execute(() -> {
            var outcome = services.authenticators().authenticate(credentials);
            ctx.executor().execute(() -> authenticated(outcome));
        });
    }

    private void authenticated(io.pgwarden.auth.AuthenticatorChain.Outcome outcome) {
        if (state != State.AUTHENTICATING) {
            return;
        }
        if (!outcome.accepted()) {
            services.authFailures().recordFailure(clientAddress);
            LOG.warn("session {}: authentication failed for user {} from {}: {}", id, user, clientAddress,
                    String.join("; ", outcome.rejections()));
            fatal(ClientError.authenticationFailed(user, outcome.clientDetail()));
            return;
        }
        identity = outcome.identity();
        switch (services.policies().select(identity, database)) {
            case PolicySelector.NoPolicy n -> {
                LOG.warn("session {}: identity {} ({}) from {}: no policy matches", id, identity.name(), identity.issuer(), clientAddress);
                fatal(ClientError.noMatchingPolicy(identity.name(), database));
            }
            case PolicySelector.WrongDatabase w -> {
                LOG.warn("session {}: identity {} from {} asked for database {}, policy {} allows upstream {} only",
                        id, identity.name(), clientAddress, database, w.policy().name(), w.upstream().name());
                fatal(ClientError.databaseNotAllowed(identity.name(), database, w.policy().name(), w.upstream().name()));
            }
            case PolicySelector.Admitted a -> {
                state = State.CONNECTING;
                upstream = a.upstream();
                LOG.info("session {}: identity {} ({}, groups {}{}) from {} admitted by policy {} to upstream {}",
                        id, identity.name(), identity.issuer(), identity.groups(), tokenFacts(identity), clientAddress,
                        a.policy().name(), upstream.name());
                policy = a.policy();
                if (upstream.jit().enabled()) {
                    services.jit().create(upstream, policy, id)
                            .whenComplete((created, failure) -> ctx.executor().execute(() -> jitRoleCreated(created, failure)));
                } else {
                    services.upstreams().connect(ctx.channel().eventLoop(), upstream,
                            StartupParameters.forUpstream(startupParameters), id,
                            services.statementGates().loginProbe(policy)).addListener(this::upstreamConnected);
                }
            }
        }
    }

    /** The token's id and expiry when the identity came from one, for the session-start line. */
    private static String tokenFacts(Identity identity) {
        StringBuilder facts = new StringBuilder();
        Object jti = identity.claims().get("jti");
        Object exp = identity.claims().get("exp");
        if (jti != null) {
            facts.append(", token id ").append(jti);
        }
        if (exp instanceof Number n) {
            facts.append(", expires ").append(Instant.ofEpochSecond(n.longValue()));
        }
        return facts.toString();
    }

    private void jitRoleCreated(JitRoles.Created created, Throwable failure) {
        if (failure != null) {
            if (state == State.CONNECTING) {
                LOG.warn("session {}: no database role could be made for it: {}", id, JitRoles.rootMessage(failure));
                fatal(ClientError.upstreamUnavailable(upstream.name(), id));
            }
            return;
        }
        if (state != State.CONNECTING) {
            // The client left (or was ended) while its role was being made.
            created.login().password().close();
            services.jit().drop(created.role());
            return;
        }
        jitRole = created.role();
        services.upstreams().connect(ctx.channel().eventLoop(), upstream, created.login(),
                StartupParameters.forUpstream(startupParameters), id,
                services.statementGates().loginProbe(policy)).addListener(this::upstreamConnected);
    }

    private void upstreamConnected(Future<? super UpstreamConnection> future) {
        if (!future.isSuccess()) {
            if (state == State.CONNECTING) {
                LOG.warn("session {}: {}", id, future.cause().getMessage());
                fatal(ClientError.upstreamUnavailable(upstream.name(), id));
            }
            return;
        }
        UpstreamConnection connection = (UpstreamConnection) future.getNow();
        String encoding = connection.startupMessages().stream()
                .filter(m -> MessageReader.type(m) == BackendMessages.PARAMETER_STATUS)
                .map(MessageReader::parameterStatus)
                .filter(p -> p.getKey().equals("client_encoding"))
                .map(Map.Entry::getValue).reduce((a, b) -> b).orElse("UTF8");
        if (state != State.CONNECTING || !ClientEncodings.readsAsUtf8(encoding)) {
            connection.startupMessages().forEach(ReferenceCountUtil::safeRelease);
            connection.channel().close();
            if (state == State.CONNECTING) {
                LOG.info("session {}: refused client_encoding {}", id, encoding);
                fatal(ClientError.unsupportedClientEncoding(encoding));
            }
            return;
        }
        upstreamChannel = connection.channel();
        upstreamKey = connection.backendKey();
        var gate = services.statementGates().open(policy, identity, upstream, connection.searchPath());
        if (services.statementGates().loginProbe(policy) != null) {
            io.pgwarden.masking.MaskingCatalog catalog = io.pgwarden.masking.MaskingCatalog.fromRows(connection.probeRows());
            gate.maskingCatalog(catalog);
            LOG.debug("session {}: masking catalog: {}", id, catalog.describe());
        }
        audit = new StatementAudit(id, services.audit(), gate);
        Instant started = Instant.now();
        recorder = services.recorder().start(new SessionFacts(id, identity.name(), identity.issuer(), identity.groups().stream().sorted().toList(),
                clientAddress, database, upstream.name(), policy.name(), started));
        statements = new StatementTracker(gate, audit, recorder, audit::auditText);
        // Recorded before any statement of the session: the writer keeps the order.
        audit.sessionStarted(SessionContext.of(id, identity, clientAddress, database, upstream.name())).exceptionally(e -> {
            LOG.warn("session {}: its start could not be recorded in the audit trail: {}", id, e.toString());
            return null;
        });
        // From here the upstream's bytes are forwarded as read; the relay walks the message
        // headers itself. Removing the login's frame decoder hands any bytes it still holds
        // (a notification right after ReadyForQuery) to the relay.
        upstreamChannel.pipeline().addLast("relay", new BackendRelay(this, ctx.channel()));
        upstreamChannel.pipeline().remove(UpstreamConnection.LOGIN_FRAME_DECODER);
        Instant expires = scheduleLifetimeEnd(started);
        info = new SessionInfo(id, identity.name(), identity.issuer(), identity.groups(), clientAddress, user, database,
                policy.name(), upstream.name(), upstreamKey.processId(), started, expires);
        secretKey = services.registry().register(upstreamKey.processId(), this);
        registered = true;

        Channel client = ctx.channel();
        client.write(BackendMessages.authentication(client.alloc(), BackendMessages.AUTH_OK));
        connection.startupMessages().forEach(client::write);
        client.write(BackendMessages.backendKeyData(client.alloc(), upstreamKey.processId(), secretKey));
        client.write(BackendMessages.readyForQuery(client.alloc(), connection.transactionStatus()));
        client.flush();

        state = State.READY;
        startupTimer.cancel(false);
        lastActivityNanos = System.nanoTime();
        scheduleIdleCheck(services.config().limits().idleTimeout().toNanos());
        while (!earlyFrames.isEmpty()) {
            relay(earlyFrames.poll());
        }
        if (flushUpstream) {
            flushUpstream = false;
            upstreamChannel.flush();
        }
        client.config().setAutoRead(!clientTerminated);
    }

    private void early(ByteBuf frame) {
        if (earlyFrames.size() >= MAX_EARLY_FRAMES) {
            frame.release();
            throw new ProtocolViolationException("too many messages before the session was ready");
        }
        earlyFrames.add(frame);
    }

    private void releaseEarlyFrames() {
        ByteBuf frame;
        while ((frame = earlyFrames.poll()) != null) {
            frame.release();
        }
    }

    /** The ready-state data path: every frame goes upstream as the same bytes. */
    private void relay(ByteBuf frame) {
        if (approval != null && MessageReader.type(frame) == FrontendMessages.TERMINATE) {
            frame.release();
            LOG.info("session {}: client {} ended the session while a statement waited for approval", id, clientAddress);
            endReason = "client ended the session while a statement waited for approval";
            close();
            ctx.close();
            return;
        }
        if (recordPending || approval != null) {
            awaitingRecord.add(frame);
            if (awaitingRecord.size() == MAX_EARLY_FRAMES) {
                ctx.channel().config().setAutoRead(false); // a client far ahead of the audit trail waits
            }
            return;
        }
        if (clientTerminated) {
            frame.release(); // nothing follows a Terminate
            return;
        }
        byte type = MessageReader.type(frame);
        ByteBuf forward = frame;
        try {
            switch (type) {
                case FrontendMessages.TERMINATE -> {
                    // Requests pipelined before the Terminate are still answered, as PostgreSQL
                    // answers them: the Terminate goes upstream in order, and the session ends
                    // when the upstream closes (upstreamClosed), after the last result is relayed.
                    LOG.info("session {}: client {} ended the session", id, clientAddress);
                    clientTerminated = true;
                    endReason = "client ended the session";
                    ctx.channel().config().setAutoRead(false);
                }
                case FrontendMessages.QUERY -> {
                    forward = statements.query(frame, ctx.alloc());
                    pendingRequests++;
                    unsyncedWork = false;
                }
                case FrontendMessages.SYNC -> {
                    statements.sync();
                    pendingRequests++;
                    unsyncedWork = false;
                }
                case FrontendMessages.FUNCTION_CALL -> {
                    forward = statements.functionCall(frame, ctx.alloc());
                    pendingRequests++;
                    unsyncedWork = false;
                }
                case FrontendMessages.PARSE -> {
                    forward = statements.parse(frame, ctx.alloc());
                    unsyncedWork = true;
                }
                case FrontendMessages.BIND -> {
                    statements.bind(frame);
                    unsyncedWork = true;
                }
                case FrontendMessages.EXECUTE -> {
                    forward = statements.execute(frame, ctx.alloc());
                    unsyncedWork = true;
                }
                case FrontendMessages.CLOSE -> {
                    statements.close(frame);
                    unsyncedWork = true;
                }
                case FrontendMessages.DESCRIBE -> {
                    statements.describe(frame);
                    unsyncedWork = true;
                }
                case FrontendMessages.FLUSH -> unsyncedWork = true;
                default -> {
                    if (recorder != null) {
                        recorder.fromClient(type, frame.readableBytes() - 5); // COPY FROM STDIN's data, counted
                    }
                }
            }
        } catch (ProtocolViolationException e) {
            frame.release(); // a message that does not decode is never substituted, so it is still ours
            throw e;
        }
        var hold = statements.takePendingHold();
        if (hold != null) {
            holdForApproval(hold, forward);
            return;
        }
        var pending = statements.takePendingRecord();
        if (pending != null) {
            // The statement goes upstream only once its audit record is durable (DESIGN §9).
            recordPending = true;
            ByteBuf held = forward;
            pending.whenComplete((ok, failure) -> ctx.executor().execute(() -> recordSettled(held, failure)));
            return;
        }
        upstreamChannel.write(forward, upstreamChannel.voidPromise());
        flushUpstream = true;
    }

    /**
     * An approval rule holds the statement: it stays here, not upstream, until a person
     * decides, the request times out or the client withdraws it; the event loop stays free
     * (the client's Terminate and cancel requests are still read).
     */
    private void holdForApproval(StatementTracker.Hold hold, ByteBuf frame) {
        Approvals.Hold waiting = services.approvals().hold(new HeldStatement(id, identity.name(), List.copyOf(identity.groups()),
                clientAddress, database, upstream.name(), audit.auditText(hold.text()), hold.text(), hold.verdict()));
        approval = waiting;
        waiting.opened().thenAccept(request -> ctx.executor().execute(() -> {
            if (state == State.READY && approval == waiting) {
                ByteBuf notice = heldNotice(request);
                if (recorder != null) {
                    recorder.held(audit.auditText(hold.text()), request.id());
                    recorder.gatewaySent(notice);
                }
                ctx.writeAndFlush(notice);
            }
        }));
        waiting.outcome().whenComplete((outcome, failure) -> ctx.executor().execute(() -> approvalSettled(hold, frame, outcome, failure)));
    }

    /** Tells the waiting client what it waits for, as PostgreSQL tells a client anything at any time: a notice. */
    private ByteBuf heldNotice(ApprovalRecord r) {
        return BackendMessages.errorOrNotice(ctx.alloc(), BackendMessages.NOTICE_RESPONSE, "NOTICE", "01000",
                "statement held for approval: request " + r.id(),
                "Rule " + r.request().rule() + ": " + r.request().reason() + ". Approvers: " + String.join(", ", r.approvers())
                        + ". It waits until " + r.request().expires() + ".",
                "Approve or deny it at " + r.request().page() + " (or: pgwarden approvals approve " + r.id() + ").");
    }

    /** The hold ended: the statement goes upstream, or its refusal does, in its place in the session's order. */
    private void approvalSettled(StatementTracker.Hold hold, ByteBuf frame, ApprovalOutcome outcome, Throwable failure) {
        if (state == State.CLOSED) {
            frame.release();
            return;
        }
        approval = null;
        if (failure != null) {
            LOG.error("session {}: an approval hold failed", id, failure);
            fatal(ClientError.internal(id));
            frame.release();
            return;
        }
        ByteBuf forward = statements.resume(hold, frame, outcome.verdict(hold.verdict()), outcome.auditNote(), ctx.alloc());
        var pending = statements.takePendingRecord();
        if (pending != null) {
            recordPending = true;
            pending.whenComplete((ok, recordFailure) -> ctx.executor().execute(() -> recordSettled(forward, recordFailure)));
            return;
        }
        recordSettled(forward, null);
    }

    /** The held statement's record is durable (or failed): forward it, then what waited behind it. */
    private void recordSettled(ByteBuf forward, Throwable failure) {
        if (state == State.CLOSED) {
            forward.release();
            return;
        }
        ByteBuf send = forward;
        if (failure != null) {
            LOG.warn("session {}: statement not run, its audit record failed: {}", id, failure.toString());
            send = statements.unrecorded(forward, ctx.alloc(), ClientError.auditUnavailable(id));
        }
        upstreamChannel.write(send, upstreamChannel.voidPromise());
        recordPending = false;
        try {
            while (!recordPending && approval == null && !awaitingRecord.isEmpty() && state == State.READY) {
                relay(awaitingRecord.poll());
            }
        } catch (ProtocolViolationException e) {
            protocolViolation(e);
            return;
        }
        upstreamChannel.flush();
        if (!recordPending && !clientTerminated && upstreamChannel.isWritable()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    // ---- called by BackendRelay on the same event loop ------------------------------------

    /**
     * A message the relay must see whole: ReadyForQuery, ErrorResponse, CommandComplete,
     * EmptyQueryResponse, PortalSuspended.
     *
     * @return what the client gets instead of it, or null to forward it as it is
     */
    ByteBuf upstreamMessage(byte type, ByteBuf message) {
        lastActivityNanos = System.nanoTime();
        if (type == BackendMessages.PARAMETER_STATUS) {
            // However it was changed (SET, set_config, a function's SET clause), the server says so.
            Map.Entry<String, String> status = MessageReader.parameterStatus(message);
            if (status.getKey().equals("client_encoding") && !ClientEncodings.readsAsUtf8(status.getValue())) {
                LOG.info("session {}: ended: client_encoding changed to {}", id, status.getValue());
                fatal(ClientError.unsupportedClientEncoding(status.getValue()));
            }
            return null;
        }
        if (type == BackendMessages.READY_FOR_QUERY && pendingRequests > 0) {
            pendingRequests--;
        } else if (type == BackendMessages.ERROR_RESPONSE && MessageReader.isFatal(message)) {
            upstreamSentFatal = true;
        }
        return statements.upstreamMessage(type, message, ctx.alloc());
    }

    /** Whether the relay must hand over this message whole, for the recording. */
    boolean wantsForRecording(byte type, int length) {
        return recorder != null && recorder.wants(type, length);
    }

    /** A message the relay sends the client (the upstream's, or what the session put in its place). */
    void sentToClient(byte type, ByteBuf message) {
        if (recorder != null && message.isReadable()) {
            recorder.sent(type, message);
        }
    }

    /** Whether the relay must hand over messages of this type whole, for masking. */
    boolean wantsForMasking(byte type) {
        return statements != null && statements.wantsForMasking(type);
    }

    /** Whether the session still relays: the relay drops what arrives after the session ended. */
    boolean relaying() {
        return state == State.READY;
    }

    void upstreamClosed() {
        if (state == State.CLOSED) {
            return;
        }
        if (clientTerminated) {
            close();
            ctx.channel().flush();
            ctx.close();
            return;
        }
        LOG.warn("session {}: upstream {} closed the connection{}", id, upstream.name(),
                upstreamSentFatal ? " after a FATAL error" : " unexpectedly");
        endReason = "upstream closed the connection" + (upstreamSentFatal ? " after a FATAL error" : "");
        if (upstreamSentFatal) {
            close();
            ctx.channel().flush();
            ctx.close();
        } else {
            fatal(ClientError.upstreamLost(id));
        }
    }

    // ---- timers, backpressure, errors ------------------------------------------------------

    /**
     * Ends the session when its credential's lifetime does (session.max_lifetime): at the
     * token's expiry by default, or a fixed time after it opened. A key has no expiry.
     *
     * @return when the session will end, or null when it has no end
     */
    private Instant scheduleLifetimeEnd(Instant now) {
        var fixed = services.config().session().fixedLifetime();
        Instant end;
        String why;
        if (fixed.isPresent()) {
            end = now.plus(fixed.get());
            why = "the session reached session.max_lifetime (" + services.config().session().maxLifetime() + ")";
        } else if (identity.claims().get("exp") instanceof Number exp) {
            end = Instant.ofEpochSecond(exp.longValue());
            why = "the token it was opened with expired at " + end;
        } else {
            end = null;
            why = null;
        }
        // A just-in-time role stops admitting logins at its expiry, but PostgreSQL lets a
        // connection that is in outlive it; the gateway ends the session then, so a role
        // past its VALID UNTIL never serves anyone (and the sweep may drop it).
        if (jitRole != null && (end == null || jitRole.expires().isBefore(end))) {
            end = jitRole.expires();
            why = "its database role " + jitRole.name() + " expired (upstream's jit.role_ttl)";
        }
        if (end == null) {
            return null;
        }
        String reason = why;
        long delay = Math.max(0, Duration.between(now, end).toMillis());
        lifetimeTimer = ctx.executor().schedule(() -> {
            if (state == State.READY) {
                LOG.info("session {}: identity {} ended: {}", id, identity.name(), reason);
                fatal(ClientError.sessionLifetimeEnded(reason));
            }
        }, delay, TimeUnit.MILLISECONDS);
        return end;
    }

    private void scheduleIdleCheck(long delayNanos) {
        long timeout = services.config().limits().idleTimeout().toNanos();
        if (timeout == 0 || state != State.READY) {
            return;
        }
        idleTimer = ctx.executor().schedule(() -> {
            if (state != State.READY) {
                return;
            }
            long idle = System.nanoTime() - lastActivityNanos;
            boolean waiting = pendingRequests == 0 && !unsyncedWork;
            if (waiting && idle >= timeout) {
                LOG.info("session {}: closed after {}s without activity", id, TimeUnit.NANOSECONDS.toSeconds(idle));
                fatal(ClientError.idleTimeout());
            } else {
                scheduleIdleCheck(waiting ? timeout - idle : timeout);
            }
        }, delayNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // The client cannot take more: stop reading from the upstream until it can.
        if (upstreamChannel != null) {
            upstreamChannel.config().setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof TooLongFrameException) {
            LOG.info("session {}: {} sent a message over the size limit", id, clientAddress);
            fatal(ClientError.messageTooLarge(services.config().limits().maxMessageSize()));
        } else if (root instanceof ProtocolViolationException p) {
            protocolViolation(p);
        } else if (root instanceof SSLException || root instanceof IOException) {
            LOG.info("session {}: connection from {} failed: {}", id, clientAddress, root.toString());
            close();
            ctx.close();
        } else {
            LOG.error("session {}: internal error", id, cause);
            fatal(ClientError.internal(id));
        }
    }

    /** The violation's text names only the framing problem, so it may go to the client (08P01, or 0A000 for a version). */
    private void protocolViolation(ProtocolViolationException e) {
        LOG.info("session {}: protocol violation from {}: {}", id, clientAddress, e.getMessage());
        fatal(e.unsupportedVersion() ? ClientError.unsupportedProtocol(e.getMessage()) : ClientError.protocolViolation(e.getMessage()));
    }

    /** For the session list in logs and, later, the admin API. */
    @Override
    public String toString() {
        return "session " + id + " (" + (identity != null ? identity.name() : user) + " from " + clientAddress + ", " + state + ")";
    }

}
