package io.pgwarden.jit;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.store.Migration;
import io.pgwarden.store.Store;
import io.pgwarden.upstream.UpstreamConnection;
import io.pgwarden.upstream.UpstreamConnector;
import io.pgwarden.upstream.UpstreamException;
import io.pgwarden.upstream.UpstreamLogin;
import io.pgwarden.vault.Secret;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Just-in-time roles (DESIGN §10): for each session on an upstream with {@code jit.enabled},
 * a login role with a random password, member of the grant roles only, valid for
 * {@code role_ttl}; dropped when the session ends. The gateway's own credential makes and
 * drops them over one pipelined {@link ControlConnection} per upstream.
 *
 * <p>Every role is recorded in the store before it is created, so that roles left by a
 * gateway that died (kill -9, power loss) are found and dropped by the next start's
 * {@link #sweep}, which also runs periodically. The sweep also drops roles that carry an
 * upstream's prefix and have expired, whoever made them: an expired role cannot serve a
 * session, because the gateway ends every JIT session when its role expires.
 */
public final class JitRoles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JitRoles.class);
    /** How often orphans are looked for while the gateway runs. */
    static final long SWEEP_INTERVAL_SECONDS = 60;
    private static final SecureRandom RANDOM = new SecureRandom();

    private static final List<Migration> SCHEMA = List.of(new Migration(1, "just-in-time roles", List.of(
            "CREATE TABLE IF NOT EXISTS jit_roles (role_name VARCHAR(63) PRIMARY KEY, upstream VARCHAR(200) NOT NULL, "
                    + "session_id VARCHAR(64) NOT NULL, created_at TIMESTAMP(6) WITH TIME ZONE NOT NULL, "
                    + "expires_at TIMESTAMP(6) WITH TIME ZONE NOT NULL)")));

    private final UpstreamConnector connector;
    private final Store store;
    private final Executor blocking;
    private final EventLoopGroup loops;
    private final Clock clock;
    private final Map<String, Upstream> upstreams = new LinkedHashMap<>();
    private final Map<String, CompletableFuture<ControlConnection>> controls = new ConcurrentHashMap<>();
    /** Roles of this gateway's sessions that exist or are being made: never swept. */
    private final Set<String> live = ConcurrentHashMap.newKeySet();
    private volatile ScheduledFuture<?> periodicSweep;
    /** Drops not finished yet: shutdown waits for them before the store closes. */
    private final Set<CompletableFuture<Void>> dropping = ConcurrentHashMap.newKeySet();

    private JitRoles(UpstreamConnector connector, Store store, Executor blocking, EventLoopGroup loops, Clock clock,
                     List<Upstream> all) {
        this.connector = connector;
        this.store = store;
        this.blocking = blocking;
        this.loops = loops;
        this.clock = clock;
        all.stream().filter(u -> u.jit().enabled()).forEach(u -> upstreams.put(u.name(), u));
    }

    public static JitRoles open(UpstreamConnector connector, Store store, Executor blocking, EventLoopGroup loops, Clock clock,
                                List<Upstream> upstreams) throws io.pgwarden.store.StoreException {
        store.migrate("jit", SCHEMA);
        return new JitRoles(connector, store, blocking, loops, clock, upstreams);
    }

    /** Whether any upstream uses JIT roles (else there is nothing to sweep). */
    public boolean inUse() {
        return !upstreams.isEmpty();
    }

    /**
     * Makes the session's role. The future completes on some thread with the role and the
     * login to connect with (whose password the connector wipes), or fails with a
     * {@link JitException}.
     */
    public CompletableFuture<Created> create(Upstream upstream, Policy policy, String sessionId) {
        String role = upstream.jit().rolePrefix() + sessionId;
        Instant expires = clock.instant().plus(upstream.jit().roleTtl());
        List<String> grants = policy.grantRoles() != null ? policy.grantRoles() : upstream.jit().grantRoles();
        JitRole jitRole = new JitRole(role, upstream.name(), sessionId, expires);
        live.add(role);
        return CompletableFuture.runAsync(() -> record(jitRole), blocking)
                .thenCompose(v -> control(upstream))
                .thenCompose(control -> {
                    char[] password = randomPassword();
                    Secret secret = Secret.wrap(password);
                    byte[] utf8 = secret.utf8();
                    String sql;
                    try {
                        sql = RoleStatements.create(role, ScramVerifier.of(utf8), expires, grants);
                    } finally {
                        Arrays.fill(utf8, (byte) 0);
                    }
                    return control.query(sql, "CREATE ROLE " + role)
                            .thenApply(rows -> new Created(jitRole, new UpstreamLogin(role, secret)))
                            .whenComplete((created, failure) -> {
                                if (failure != null) {
                                    secret.close();
                                }
                            });
                })
                .whenComplete((created, failure) -> {
                    if (failure != null) {
                        live.remove(role);
                        blocking.execute(() -> forget(role));
                    } else {
                        LOG.info("session {}: created role {} on upstream {} (member of {}, valid until {})", sessionId, role,
                                upstream.name(), grants, expires);
                    }
                });
    }

    /** A role made for a session, and the login (with its one-time password) to connect as it. */
    public record Created(JitRole role, UpstreamLogin login) {
    }

    /**
     * Ends the role's backends and drops it, then forgets it; failures are logged and the
     * record stays for the sweep to retry.
     */
    public CompletableFuture<Void> drop(JitRole role) {
        Upstream upstream = upstreams.get(role.upstream());
        CompletableFuture<Void> done = control(upstream).thenCompose(control -> {
                    // Pipelined: the DROP is sent at once and runs even when the terminate fails
                    // (no pg_signal_backend); a role dropped under a live backend leaves it
                    // running nameless, which is why the terminate comes first.
                    CompletableFuture<List<String>> terminated = control.query(RoleStatements.terminateBackends(role.name()),
                            "ending the backends of " + role.name());
                    CompletableFuture<List<String>> dropped = control.query(RoleStatements.drop(role.name()), "DROP ROLE " + role.name());
                    terminated.exceptionally(e -> {
                        LOG.warn("session {}: {}", role.sessionId(), rootMessage(e));
                        return null;
                    });
                    return dropped;
                })
                .thenRunAsync(() -> forget(role.name()), blocking)
                .whenComplete((v, failure) -> {
                    live.remove(role.name());
                    if (failure != null) {
                        LOG.warn("session {}: role {} on upstream {} was not dropped ({}); the sweep will retry", role.sessionId(),
                                role.name(), role.upstream(), rootMessage(failure));
                    } else {
                        LOG.info("session {}: dropped role {} on upstream {}", role.sessionId(), role.name(), role.upstream());
                    }
                });
        dropping.add(done);
        done.whenComplete((v, e) -> dropping.remove(done));
        return done;
    }

    /**
     * Drops, on every JIT upstream, the roles this store recorded that belong to no live
     * session (left by a crash), and the expired roles with the upstream's prefix. Waits
     * for the result; an upstream that cannot be reached is logged and left for the next sweep.
     *
     * @return how many roles were dropped
     */
    public int sweep() {
        int dropped = 0;
        for (Upstream upstream : upstreams.values()) {
            try {
                Set<String> orphans = new HashSet<>(recorded(upstream.name()));
                ControlConnection control = control(upstream).get(upstream.connectTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
                orphans.addAll(control.query(RoleStatements.expiredWithPrefix(upstream.jit().rolePrefix()), "listing expired roles")
                        .get(upstream.connectTimeout().toMillis(), TimeUnit.MILLISECONDS));
                orphans.removeAll(live);
                for (String role : orphans) {
                    drop(new JitRole(role, upstream.name(), "-", Instant.EPOCH)).get(30, TimeUnit.SECONDS);
                    dropped++;
                }
                if (!orphans.isEmpty()) {
                    LOG.info("jit: swept {} orphaned role(s) on upstream {}: {}", orphans.size(), upstream.name(), orphans);
                }
            } catch (Exception e) {
                LOG.warn("jit: sweeping upstream {} failed: {}", upstream.name(), rootMessage(e));
            }
        }
        return dropped;
    }

    /** Sweeps every {@value #SWEEP_INTERVAL_SECONDS} s from now on, off the event loops. */
    public void sweepPeriodically() {
        if (inUse()) {
            periodicSweep = loops.next().scheduleAtFixedRate(() -> blocking.execute(this::sweep), SWEEP_INTERVAL_SECONDS,
                    SWEEP_INTERVAL_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** The upstream's control connection, (re)opened when there is none or it closed. */
    private CompletableFuture<ControlConnection> control(Upstream upstream) {
        return controls.compute(upstream.name(), (name, existing) -> {
            if (existing != null && (!existing.isDone() || (!existing.isCompletedExceptionally() && existing.join().isOpen()))) {
                return existing;
            }
            CompletableFuture<ControlConnection> opened = new CompletableFuture<>();
            EventLoop loop = loops.next();
            UpstreamLogin login;
            try {
                login = connector.credentialLogin(upstream);
            } catch (UpstreamException e) {
                opened.completeExceptionally(e);
                return opened;
            }
            Map<String, String> parameters = Map.of("application_name", "pgwarden-jit", "standard_conforming_strings", "on");
            connector.connect(loop, upstream, login, parameters, "jit-control").addListener(f -> {
                if (f.isSuccess()) {
                    opened.complete(ControlConnection.attach((UpstreamConnection) f.getNow(), upstream.name()));
                } else {
                    opened.completeExceptionally(new JitException("cannot open the control connection to upstream "
                            + upstream.name() + ": " + f.cause().getMessage(), f.cause()));
                }
            });
            return opened;
        });
    }

    /**
     * The store connection for the role records, kept open: a new H2 connection per record
     * cost more than the record itself at pgbench -C rates. Used under its own lock.
     */
    private Connection records;

    private synchronized Connection records() throws SQLException {
        if (records == null || records.isClosed()) {
            records = store.connect();
        }
        return records;
    }

    private synchronized void record(JitRole role) {
        try (PreparedStatement p = records().prepareStatement(
                "INSERT INTO jit_roles (role_name, upstream, session_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
            p.setString(1, role.name());
            p.setString(2, role.upstream());
            p.setString(3, role.sessionId());
            p.setObject(4, clock.instant().atOffset(java.time.ZoneOffset.UTC));
            p.setObject(5, role.expires().atOffset(java.time.ZoneOffset.UTC));
            p.executeUpdate();
        } catch (SQLException e) {
            throw new java.util.concurrent.CompletionException(new JitException("cannot record role " + role.name()
                    + " in the store: " + e.getMessage(), e));
        }
    }

    private synchronized void forget(String role) {
        try (PreparedStatement p = records().prepareStatement("DELETE FROM jit_roles WHERE role_name = ?")) {
            p.setString(1, role);
            p.executeUpdate();
        } catch (SQLException e) {
            LOG.warn("jit: cannot remove role {} from the store: {}", role, e.getMessage());
        }
    }

    private synchronized List<String> recorded(String upstream) throws SQLException {
        try (PreparedStatement p = records().prepareStatement("SELECT role_name FROM jit_roles WHERE upstream = ?")) {
            p.setString(1, upstream);
            List<String> roles = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    roles.add(rs.getString(1));
                }
            }
            return roles;
        }
    }

    /** 256 random bits in base64url: a password nobody types, never stored or shown. */
    private static char[] randomPassword() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        byte[] encoded = Base64.getUrlEncoder().withoutPadding().encode(bytes);
        char[] chars = new char[encoded.length];
        for (int i = 0; i < encoded.length; i++) {
            chars[i] = (char) encoded[i];
        }
        Arrays.fill(bytes, (byte) 0);
        Arrays.fill(encoded, (byte) 0);
        return chars;
    }

    /** The message of what failed, under the future's wrappers. */
    public static String rootMessage(Throwable e) {
        Throwable t = e;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    /** Waits (up to {@code seconds}) for the drops in flight, then closes the control connections. */
    public void close(long seconds) {
        try {
            CompletableFuture.allOf(dropping.toArray(CompletableFuture[]::new)).get(seconds, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("jit: {} role drop(s) still unfinished at shutdown; the next start's sweep will finish them", dropping.size());
        }
        close();
    }

    @Override
    public void close() {
        if (periodicSweep != null) {
            periodicSweep.cancel(false);
        }
        controls.values().forEach(f -> f.thenAccept(ControlConnection::close));
        synchronized (this) {
            if (records != null) {
                try {
                    records.close();
                } catch (SQLException ignored) {
                    // the store closes next
                }
            }
        }
    }
}
