package io.pgwarden.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgwarden.admin.AdminServer;
import io.pgwarden.admin.AdminUsers;
import io.pgwarden.admin.AdminStartException;
import io.pgwarden.approval.ApprovalLinks;
import io.pgwarden.approval.Approvals;
import io.pgwarden.approval.NamedApprover;
import io.pgwarden.approval.RowEstimator;
import io.pgwarden.audit.AuditLog;
import io.pgwarden.audit.NamedSink;
import io.pgwarden.auth.AuthFailureLimiter;
import io.pgwarden.auth.AuthenticatorChain;
import io.pgwarden.config.GatewayConfig;
import io.pgwarden.config.GatewayConfig.ClientTlsMode;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.config.UnenforcedSettings;
import io.pgwarden.masking.MaskerRegistry;
import io.pgwarden.plugin.PluginHost;
import io.pgwarden.plugin.PluginLoadException;
import io.pgwarden.policy.PolicySelector;
import io.pgwarden.policy.PolicyGateFactory;
import io.pgwarden.analysis.ParserUnavailableException;
import io.pgwarden.analysis.StatementAnalyzer;
import io.pgwarden.session.ClientError;
import io.pgwarden.session.FrontendSession;
import io.pgwarden.session.SessionRegistry;
import io.pgwarden.recording.Recorder;
import io.pgwarden.session.SessionServices;
import io.pgwarden.jit.JitRoles;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import io.pgwarden.upstream.PasswordSource;
import io.pgwarden.vault.Secret;
import io.pgwarden.vault.Vault;
import io.pgwarden.vault.VaultException;
import io.pgwarden.tls.ServerTls;
import io.pgwarden.tls.TlsSetupException;
import io.pgwarden.upstream.UpstreamConnector;
import io.pgwarden.upstream.UpstreamException;
import io.pgwarden.wire.StartupPacketDecoder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running gateway: its listening socket, event loops, plugins and sessions. {@link
 * #start} does everything that can fail before the port opens, so a bad configuration
 * never leaves a half-working gateway listening.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
    /** Where the launcher says the distribution lives; its plugins/ folder is the default plugins.dir. */
    public static final String HOME_PROPERTY = "pgwarden.home";
    /**
     * Connections beyond limits.max_connections that are still accepted, to be told 53300
     * after their TLS handshake (before it a TLS client could not read the error); past
     * this allowance they are closed at once.
     */
    private static final int OVER_LIMIT_ALLOWANCE = 64;

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;
    private final SessionServices services;
    private final PluginHost plugins;
    private final ExecutorService blockingExecutor;
    private final ServerTls tls;
    private final AdminServer admin;
    private final Audit audit;
    private volatile boolean closed;

    private Gateway(EventLoopGroup bossGroup, EventLoopGroup workerGroup, Channel serverChannel, SessionServices services,
                    PluginHost plugins, ExecutorService blockingExecutor, ServerTls tls, AdminServer admin, Audit audit) {
        this.bossGroup = bossGroup;
        this.workerGroup = workerGroup;
        this.serverChannel = serverChannel;
        this.services = services;
        this.plugins = plugins;
        this.blockingExecutor = blockingExecutor;
        this.tls = tls;
        this.admin = admin;
        this.audit = audit;
    }

    /**
     * The audit log and its store, opened together and closed in reverse order: the log
     * first (it drains its queue and closes its sinks), then the store.
     */
    private static final class Audit implements AutoCloseable {
        /** Opens the store: the vault unlocks it. */
        Vault vault;
        AuditLog log;
        Recorder recorder;
        JitRoles jit;
        List<NamedSink> unclaimedSinks = List.of();
        AdminUsers users;
        /** Approvals record into the log: closed before it. */
        Approvals approvals;
        List<NamedApprover> unclaimedApprovers = List.of();

        @Override
        public void close() {
            if (approvals != null) {
                approvals.close();
            } else {
                NamedApprover.closeAll(unclaimedApprovers);
            }
            // Before the store closes: a role drop still under way must record its end.
            if (jit != null) {
                jit.close(10);
            }
            if (recorder != null) {
                recorder.close(); // before the audit log: a drop it reports goes there
            }
            if (log != null) {
                log.close();
            } else {
                PluginHost.closeSinks(unclaimedSinks);
            }
            if (vault != null) {
                vault.close();
            }
        }
    }

    /**
     * @param environment where {@code password_env} credentials are looked up (System::getenv in production)
     */
    public static Gateway start(LoadedConfig loaded, Function<String, String> environment) throws GatewayStartException {
        GatewayConfig config = loaded.config();
        List<String> unenforced = UnenforcedSettings.find(config);
        if (!unenforced.isEmpty()) {
            throw new GatewayStartException("the configuration asks for what this version cannot enforce, so it will not start:\n  "
                    + String.join("\n  ", unenforced));
        }
        String oidcSecret = adminOidcSecret(config, environment);
        ServerTls tls = serverTls(loaded);
        Path pluginDir = pluginDirectory(loaded);
        StatementAnalyzer analyzer;
        try {
            analyzer = StatementAnalyzer.create();
        } catch (ParserUnavailableException e) {
            throw new GatewayStartException(e.getMessage(), e);
        }

        Transport transport = Transport.select(System.getProperty("pgwarden.transport", "auto"));
        PluginHost plugins = null;
        AuthenticatorChain authenticators = null;
        Audit audit = new Audit();
        EventLoopGroup boss = null;
        EventLoopGroup workers = null;
        AdminServer admin = null;
        ExecutorService blocking = Executors.newVirtualThreadPerTaskExecutor();
        try {
            plugins = PluginHost.start(pluginDir);
            authenticators = plugins.authenticators(config.authenticators(), Clock.systemUTC(), loaded.baseDir());
            audit.unclaimedSinks = plugins.auditSinks(config.audit().sinks(), Clock.systemUTC(), loaded.baseDir());
            MaskerRegistry maskers = plugins.maskers(config.masking(), environment, Clock.systemUTC(), loaded.baseDir());
            LOG.info("masking: maskers {}, PII detectors {}", maskers.maskerNames(), maskers.detectorKinds());
            audit.vault = Vault.open(loaded, environment);
            audit.log = AuditLog.open(audit.vault.store(), AuditLog.Settings.defaults(gatewayId(config), config.audit().redactLiterals(),
                    config.audit().fsync()), audit.unclaimedSinks, Clock.systemUTC());
            audit.recorder = Recorder.open(audit.vault.store(), Recorder.Settings.of(config, gatewayId(config)), audit.log,
                    Clock.systemUTC());
            Map<String, PasswordSource> passwords = upstreamPasswords(config.upstreams(), environment, audit.vault);
            audit.users = new AdminUsers(audit.vault.store());
            audit.unclaimedApprovers = plugins.approvers(config.approvers(), Clock.systemUTC(), loaded.baseDir());
            ApprovalLinks links = new ApprovalLinks(config.admin().publicUrl());
            audit.approvals = new Approvals(audit.unclaimedApprovers, links, audit.log,
                    new RowEstimator(config.upstreams(), name -> passwordText(passwords, name), loaded::resolve), blocking,
                    Clock.systemUTC());
            UpstreamConnector connector = new UpstreamConnector(transport.upstreamChannels(), loaded, passwords);
            boss = transport.newGroup(1);
            workers = transport.newGroup(config.listen().eventLoops());
            audit.jit = JitRoles.open(connector, audit.vault.store(), blocking, workers, Clock.systemUTC(), config.upstreams());
            if (audit.jit.inUse()) {
                // Roles a crashed gateway left behind go before anyone can connect.
                audit.jit.sweep();
                audit.jit.sweepPeriodically();
            }
            ChannelGroup clients = new DefaultChannelGroup("pgwarden-clients", GlobalEventExecutor.INSTANCE);
            SessionServices services = new SessionServices(config, tls, authenticators,
                    new AuthFailureLimiter(config.limits().authFailuresPerMinute(), Clock.systemUTC()),
                    new PolicySelector(config.policies(), config.upstreams()), policyGates(config, analyzer, maskers),
                    connector, new SessionRegistry(), blocking, clients, audit.log, audit.jit, audit.approvals, audit.recorder);
            admin = AdminServer.start(config.admin().host(), config.admin().port(), loaded.resolve(config.admin().credentialFile()),
                    new AdminServer.Services(services.registry(), audit.log, audit.approvals, audit.users, config,
                            plugins.describe(), config.admin().publicUrl(), oidcSecret, audit.vault, audit.recorder));
            links.listeningAt(admin.url());

            Channel server = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(128 << 10, 512 << 10))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            int open = clients.size();
                            if (open >= config.limits().maxConnections() + OVER_LIMIT_ALLOWANCE) {
                                // A flood: no resources for a polite refusal.
                                ch.close();
                                return;
                            }
                            clients.add(ch);
                            if (tls != null) {
                                // PostgreSQL 17 clients may open with TLS directly instead of an SSLRequest.
                                ch.pipeline().addLast("direct-tls", new OptionalSslHandler(tls.context()));
                            }
                            ch.pipeline().addLast("startup", new StartupPacketDecoder());
                            ch.pipeline().addLast("session",
                                    new FrontendSession(services, open >= config.limits().maxConnections()));
                        }
                    })
                    .bind(config.listen().host(), config.listen().port())
                    .syncUninterruptibly()
                    .channel();
            Gateway gateway = new Gateway(boss, workers, server, services, plugins, blocking, tls, admin, audit);
            LOG.info("pgwarden listening on {} ({} transport, client TLS {})", gateway.address(), transport.name(),
                    config.listen().tls().mode().name().toLowerCase(java.util.Locale.ROOT));
            return gateway;
        } catch (VaultException e) {
            cleanUp(admin, plugins, authenticators, audit, boss, workers, blocking);
            throw new GatewayStartException("vault: " + e.getMessage(), e);
        } catch (PluginLoadException | UpstreamException | StoreException | AdminStartException | GatewayStartException e) {
            cleanUp(admin, plugins, authenticators, audit, boss, workers, blocking);
            throw new GatewayStartException(e.getMessage(), e);
        } catch (Exception e) {
            // Netty rethrows a bind failure (java.net.BindException, a checked exception) unchecked.
            cleanUp(admin, plugins, authenticators, audit, boss, workers, blocking);
            throw new GatewayStartException("cannot listen on " + config.listen().host() + ":" + config.listen().port()
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * What {@code check-config} adds to the file's own validation: loads the plugins and
     * builds every configured plugin instance, so that a bad key digest or an unknown
     * authenticator type fails the check as it would fail {@code run}; then releases them.
     */
    public static void checkPlugins(LoadedConfig loaded) throws GatewayStartException {
        try (PluginHost plugins = PluginHost.start(pluginDirectory(loaded));
             AuthenticatorChain chain = plugins.authenticators(loaded.config().authenticators(), Clock.systemUTC(),
                     loaded.baseDir())) {
            LOG.debug("check-config: {} authenticator(s) built", chain);
            Store.resolveUrl(loaded.config().store().url(), loaded.baseDir());
            PluginHost.closeSinks(plugins.auditSinks(loaded.config().audit().sinks(), Clock.systemUTC(), loaded.baseDir()));
            MaskerRegistry maskers = plugins.maskers(loaded.config().masking(), System::getenv, Clock.systemUTC(), loaded.baseDir());
            for (var policy : loaded.config().policies()) {
                compileMasking(policy, maskers);
            }
            NamedApprover.closeAll(plugins.approvers(loaded.config().approvers(), Clock.systemUTC(), loaded.baseDir()));
        } catch (PluginLoadException | StoreException e) {
            throw new GatewayStartException(e.getMessage(), e);
        }
    }

    /** The policies compiled with their maskers; a mask rule naming a masker or detector nobody provides stops start-up. */
    private static PolicyGateFactory policyGates(GatewayConfig config, StatementAnalyzer analyzer, MaskerRegistry maskers)
            throws GatewayStartException {
        for (var policy : config.policies()) {
            compileMasking(policy, maskers);
        }
        return new PolicyGateFactory(config.policies(), analyzer, maskers);
    }

    private static void compileMasking(GatewayConfig.Policy policy, MaskerRegistry maskers) throws GatewayStartException {
        try {
            io.pgwarden.masking.MaskRules.compile(policy, maskers);
        } catch (IllegalArgumentException e) {
            throw new GatewayStartException(e.getMessage(), e);
        }
    }

    /** {@code audit.gateway_id}, or the host's name (or "pgwarden" when it has none). */
    private static String gatewayId(GatewayConfig config) {
        if (config.audit().gatewayId() != null) {
            return config.audit().gatewayId();
        }
        try {
            String host = java.net.InetAddress.getLocalHost().getHostName();
            return host == null || host.isBlank() ? "pgwarden" : host;
        } catch (java.io.IOException e) {
            return "pgwarden";
        }
    }

    private static void cleanUp(AdminServer admin, PluginHost plugins, AuthenticatorChain authenticators, Audit audit, EventLoopGroup boss,
                                EventLoopGroup workers, ExecutorService blocking) {
        if (admin != null) {
            admin.close();
        }
        if (authenticators != null) {
            authenticators.close();
        }
        // Before the plugins stop: the sinks are plugin classes.
        audit.close();
        if (plugins != null) {
            plugins.close();
        }
        if (boss != null) {
            boss.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
        if (workers != null) {
            workers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
        blocking.shutdownNow();
    }

    /** admin.oidc's client secret from its environment variable; null for a public client. */
    private static String adminOidcSecret(GatewayConfig config, Function<String, String> environment) throws GatewayStartException {
        var oidc = config.admin().oidc();
        if (oidc == null || oidc.clientSecretEnv() == null) {
            return null;
        }
        String secret = environment.apply(oidc.clientSecretEnv());
        if (secret == null || secret.isEmpty()) {
            throw new GatewayStartException("admin.oidc.client_secret_env: environment variable " + oidc.clientSecretEnv() + " is not set");
        }
        return secret;
    }

    /** An upstream's password as text, for the row estimator's pgjdbc login; null when it cannot be read. */
    private static String passwordText(Map<String, PasswordSource> passwords, String upstream) {
        PasswordSource source = passwords.get(upstream);
        if (source == null) {
            return null;
        }
        try (var secret = source.open()) {
            return new String(secret.chars());
        } catch (io.pgwarden.upstream.UpstreamException e) {
            LOG.warn("approvals: the password of upstream {} cannot be read for a row estimate: {}", upstream, e.getMessage());
            return null;
        }
    }

    /**
     * Where each upstream's password comes from. Vault secrets are checked to exist now, and
     * decrypted only when a login needs them; an environment variable is read now.
     */
    private static Map<String, PasswordSource> upstreamPasswords(List<Upstream> upstreams, Function<String, String> environment,
                                                                 Vault vault) throws GatewayStartException, VaultException {
        Map<String, PasswordSource> passwords = new HashMap<>();
        for (int i = 0; i < upstreams.size(); i++) {
            Upstream u = upstreams.get(i);
            GatewayConfig.Credential c = u.credential();
            if (c.password() != null) {
                String value = c.password();
                passwords.put(u.name(), () -> Secret.of(value));
            } else if (c.passwordEnv() != null) {
                String value = environment.apply(c.passwordEnv());
                if (value == null || value.isEmpty()) {
                    throw new GatewayStartException("upstreams[" + i + "].credential.password_env: environment variable "
                            + c.passwordEnv() + " is not set");
                }
                passwords.put(u.name(), () -> Secret.of(value));
            } else {
                String name = c.passwordRef().substring("vault:".length());
                if (!vault.contains(name)) {
                    throw new GatewayStartException("upstreams[" + i + "].credential.password_ref: the vault holds no secret named "
                            + name + "; store it with: pgwarden vault put " + name + " --config FILE");
                }
                passwords.put(u.name(), () -> {
                    try {
                        return vault.reveal(name);
                    } catch (VaultException e) {
                        throw new UpstreamException("upstream " + u.name() + ": " + e.getMessage(), e);
                    }
                });
            }
        }
        return passwords;
    }

    private static ServerTls serverTls(LoadedConfig loaded) throws GatewayStartException {
        GatewayConfig.ListenTls t = loaded.config().listen().tls();
        if (t.mode() == ClientTlsMode.DISABLE) {
            LOG.warn("listen.tls.mode is disable: agents' keys and tokens will cross the network in the clear");
            return null;
        }
        try {
            if (t.cert() != null) {
                ServerTls tls = ServerTls.fromPem(loaded.resolve(t.cert()), loaded.resolve(t.key()));
                LOG.info("TLS certificate {} (SHA-256 {})", loaded.resolve(t.cert()), tls.fingerprint());
                return tls;
            }
            ServerTls tls = ServerTls.selfSigned(loaded.config().listen().host());
            LOG.info("no listen.tls.cert configured: generated a self-signed certificate, SHA-256 fingerprint {}", tls.fingerprint());
            return tls;
        } catch (TlsSetupException e) {
            throw new GatewayStartException(e.getMessage(), e);
        }
    }

    private static Path pluginDirectory(LoadedConfig loaded) throws GatewayStartException {
        if (loaded.config().plugins().dir() != null) {
            return loaded.resolve(loaded.config().plugins().dir());
        }
        Optional<Path> bundled = bundledPluginDirectory();
        if (bundled.isPresent()) {
            return bundled.get();
        }
        String home = System.getProperty(HOME_PROPERTY);
        throw new GatewayStartException("plugins.dir: not set, and no bundled plugins were found"
                + (home != null ? " in " + Path.of(home, "plugins") : " (" + HOME_PROPERTY + " is not set)"));
    }

    /** The distribution's {@code plugins/} folder under {@value #HOME_PROPERTY}, when there is one. */
    public static Optional<Path> bundledPluginDirectory() {
        String home = System.getProperty(HOME_PROPERTY);
        if (home != null && Files.isDirectory(Path.of(home, "plugins"))) {
            return Optional.of(Path.of(home, "plugins"));
        }
        return Optional.empty();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public int port() {
        return address().getPort();
    }

    /** Where the admin API listens. */
    public java.net.URI adminUrl() {
        return admin.url();
    }

    public SessionRegistry sessions() {
        return services.registry();
    }

    /** Session recordings: what the sessions sent and received, for replay. */
    public Recorder recorder() {
        return audit.recorder;
    }

    /** The admin page's local users. */
    public AdminUsers adminUsers() {
        return audit.users;
    }

    /** Approval requests: held statements and their decisions. */
    public Approvals approvals() {
        return audit.approvals;
    }

    /** The audit trail: what the sessions record, and {@code list}/{@code verify} for the CLI and admin API. */
    public AuditLog audit() {
        return audit.log;
    }

    /** Open client connections, including those still starting. */
    public int connections() {
        return services.clientChannels().size();
    }

    public String tlsFingerprint() {
        return tls == null ? null : tls.fingerprint();
    }

    /**
     * Stops accepting, lets sessions finish within the grace period, then ends the rest with
     * FATAL 57P01 (as a PostgreSQL server does on a fast shutdown) and releases everything.
     */
    public void shutdown(Duration grace) {
        if (closed) {
            return;
        }
        closed = true;
        serverChannel.close().syncUninterruptibly();
        long deadline = System.nanoTime() + grace.toNanos();
        int open = services.clientChannels().size();
        if (open > 0) {
            LOG.info("shutting down: waiting up to {}s for {} connection(s) to end", grace.toSeconds(), open);
        }
        awaitNoConnections(deadline);
        for (FrontendSession session : services.registry().sessions()) {
            session.terminate(ClientError.shuttingDown());
        }
        // Give the FATAL messages a moment to be written before the sockets are forced shut.
        awaitNoConnections(System.nanoTime() + Duration.ofSeconds(2).toNanos());
        services.clientChannels().close().awaitUninterruptibly(5, java.util.concurrent.TimeUnit.SECONDS);
        cleanUp(admin, plugins, services.authenticators(), audit, bossGroup, workerGroup, blockingExecutor);
        LOG.info("pgwarden stopped");
    }

    private void awaitNoConnections(long deadlineNanos) {
        while (!services.clientChannels().isEmpty() && System.nanoTime() < deadlineNanos) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
