package io.pgwarden.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.config.GatewayConfig.UpstreamTlsMode;
import io.pgwarden.config.LoadedConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLException;

/**
 * Opens logged-in connections to the configured upstreams. A connection is made on the
 * client's own event loop, so both channels of a session share one thread and forwarding
 * between them needs no hand-off (Netty's HexDumpProxy pattern).
 */
public final class UpstreamConnector {
    private final UpstreamChannels channels;
    private final Map<String, SslContext> tlsByUpstream = new HashMap<>();
    private final Map<String, PasswordSource> passwords;

    /** @param passwords each upstream's credential password, by upstream name */
    public UpstreamConnector(UpstreamChannels channels, LoadedConfig loaded, Map<String, PasswordSource> passwords)
            throws UpstreamException {
        this.channels = channels;
        this.passwords = Map.copyOf(passwords);
        for (int i = 0; i < loaded.config().upstreams().size(); i++) {
            Upstream u = loaded.config().upstreams().get(i);
            if (u.tls() != UpstreamTlsMode.DISABLE) {
                try {
                    tlsByUpstream.put(u.name(), UpstreamTls.context(u.tls(),
                            u.tlsRootCert() == null ? null : loaded.resolve(u.tlsRootCert())));
                } catch (SSLException | IllegalArgumentException e) {
                    throw new UpstreamException("upstreams[" + i + "].tls_root_cert: cannot be used: " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * Connects and logs in as the upstream's configured credential.
     *
     * @param parameters startup parameters to pass on (user and database are set here)
     */
    public Future<UpstreamConnection> connect(EventLoop loop, Upstream upstream, Map<String, String> parameters,
                                              String sessionId) {
        return connect(loop, upstream, parameters, sessionId, null);
    }

    /**
     * @param extraProbe a query to run after the login's own (the masking catalog), whose
     *                   rows come back in {@link UpstreamConnection#probeRows()}; null for none
     */
    public Future<UpstreamConnection> connect(EventLoop loop, Upstream upstream, Map<String, String> parameters,
                                              String sessionId, String extraProbe) {
        UpstreamLogin login;
        try {
            login = credentialLogin(upstream);
        } catch (UpstreamException e) {
            return loop.newFailedFuture(e);
        }
        return connect(loop, upstream, login, parameters, sessionId, extraProbe);
    }

    /** The upstream's configured credential, its password freshly read (the caller passes it on or wipes it). */
    public UpstreamLogin credentialLogin(Upstream upstream) throws UpstreamException {
        PasswordSource source = passwords.get(upstream.name());
        if (source == null) {
            throw new UpstreamException("upstream " + upstream.name() + " has no password source");
        }
        return new UpstreamLogin(upstream.credential().user(), source.open());
    }

    public Future<UpstreamConnection> connect(EventLoop loop, Upstream upstream, UpstreamLogin login,
                                              Map<String, String> parameters, String sessionId) {
        return connect(loop, upstream, login, parameters, sessionId, null);
    }

    /**
     * Connects and logs in as {@code login}, whose password is wiped when the login has
     * succeeded or failed.
     *
     * @param parameters startup parameters to pass on (user and database are set here)
     * @param extraProbe a query to run after the login's own (the masking catalog), whose
     *                   rows come back in {@link UpstreamConnection#probeRows()}; null for none
     */
    public Future<UpstreamConnection> connect(EventLoop loop, Upstream upstream, UpstreamLogin login,
                                              Map<String, String> parameters, String sessionId, String extraProbe) {
        Promise<UpstreamConnection> promise = loop.newPromise();
        promise.addListener(f -> login.password().close());
        Map<String, String> startup = new java.util.LinkedHashMap<>();
        startup.put("user", login.user());
        startup.put("database", upstream.database());
        parameters.forEach(startup::putIfAbsent);
        // As libpq: no SSLRequest over a Unix socket, where PostgreSQL never offers TLS.
        SslContext tls = isUnixSocket(upstream) ? null : tlsByUpstream.get(upstream.name());
        UpstreamHandshakeHandler handshake = new UpstreamHandshakeHandler(upstream, tls,
                startup, new UpstreamAuthExchange(login.user(), login.password()), promise, extraProbe);
        bootstrap(loop, upstream).handler(handshake).connect(address(upstream)).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(new UpstreamException("cannot reach upstream " + upstream.name() + " at "
                        + upstream.host() + ":" + upstream.port() + ": " + f.cause().getMessage(), f.cause()));
            }
        });
        // The whole login, not only the TCP connect, must finish in time: a server that
        // accepts and then says nothing must not hold the client forever.
        var timeout = loop.schedule(() -> {
            if (promise.tryFailure(new UpstreamException("upstream " + upstream.name() + " did not complete the login within "
                    + upstream.connectTimeout().toSeconds() + "s"))) {
                handshake.abandon();
            }
        }, upstream.connectTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        promise.addListener(f -> timeout.cancel(false));
        return promise;
    }

    /** A host that is a folder names a Unix domain socket in it, as libpq reads it. */
    public static boolean isUnixSocket(Upstream upstream) {
        return upstream.host().startsWith("/");
    }

    private SocketAddress address(Upstream upstream) {
        return isUnixSocket(upstream)
                ? channels.unixAddress().apply(upstream.host() + "/.s.PGSQL." + upstream.port())
                : new InetSocketAddress(upstream.host(), upstream.port());
    }

    private Bootstrap bootstrap(EventLoop loop, Upstream upstream) {
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, upstream.connectTimeout().toMillis()));
        if (isUnixSocket(upstream)) {
            return bootstrap.channel(channels.unix());
        }
        return bootstrap.channel(channels.tcp())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
    }

    /** Sends a CancelRequest with the upstream's real key; fire-and-forget, as in PostgreSQL. */
    public void cancel(EventLoop loop, Upstream upstream, int processId, int secretKey) {
        bootstrap(loop, upstream)
                .handler(new io.netty.channel.ChannelInboundHandlerAdapter())
                .connect(address(upstream))
                .addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        f.channel().writeAndFlush(io.pgwarden.wire.FrontendMessages.cancelRequest(f.channel().alloc(), processId, secretKey))
                                .addListener(ChannelFutureListener.CLOSE);
                    }
                });
    }
}
