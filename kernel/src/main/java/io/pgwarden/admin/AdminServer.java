package io.pgwarden.admin;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.pgwarden.approval.Approvals;
import io.pgwarden.audit.AuditLog;
import io.pgwarden.recording.Recorder;
import io.pgwarden.session.FrontendSession;
import io.pgwarden.session.SessionInfo;
import io.pgwarden.session.SessionRegistry;
import io.pgwarden.vault.Vault;
import io.pgwarden.vault.VaultException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API (Javalin): what {@code pgwarden sessions …} and, later, the admin page use
 * to see and act on the running gateway. Everything under {@code /api} needs the bearer
 * token of the {@link AdminCredential} this server writes at start; {@code /health} is open
 * and says nothing but that the gateway is up.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    static final String BY_ADMIN_API = "an administrator through the admin API";
    static final String USER_ATTRIBUTE = "pgwarden.user";
    static final String CSRF_ATTRIBUTE = "pgwarden.csrf";

    private final Javalin app;
    private final AdminCredential credential;
    private final Path credentialFile;

    private AdminServer(Javalin app, AdminCredential credential, Path credentialFile) {
        this.app = app;
        this.credential = credential;
        this.credentialFile = credentialFile;
    }

    /**
     * Opens the API on host:port (0 picks a free port) and writes the credential file.
     *
     * @throws AdminStartException when the port cannot be opened or the file written
     */
    public static AdminServer start(String host, int port, Path credentialFile, Services services) throws AdminStartException {
        AdminCredential[] holder = new AdminCredential[1];
        SessionRegistry sessions = services.sessions();
        AuditLog audit = services.audit();
        BrowserSessions logins = new BrowserSessions(java.time.Clock.systemUTC());
        AdminPage page = new AdminPage(services, logins);
        Metrics metrics = new Metrics(services);
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.concurrency.useVirtualThreads = true;
            config.jetty.host = host;
            config.jetty.port = port;
            config.routes.before(ctx -> {
                ctx.header("X-Content-Type-Options", "nosniff");
                ctx.header("Cache-Control", "no-store");
                ctx.header("X-Frame-Options", "DENY");
                ctx.header("Referrer-Policy", "no-referrer");
                ctx.header("Content-Security-Policy", AdminPage.CONTENT_SECURITY_POLICY);
                ctx.header("Cross-Origin-Opener-Policy", "same-origin");
                if (page.secureCookies(ctx)) {
                    ctx.header("Strict-Transport-Security", "max-age=31536000");
                }
            });
            config.routes.get("/health", ctx -> ctx.json(Map.of("status", "ok")));
            config.routes.get("/metrics", metrics::scrape);
            config.routes.before("/api/*", ctx -> authenticate(ctx, holder[0], logins));
            page.register(config.routes);
            config.routes.get("/api/policies", ctx -> ctx.json(Map.of("policies", ConfigJson.policies(services.config()))));
            config.routes.get("/api/plugins", ctx -> ctx.json(Map.of("plugins", services.plugins(),
                    "instances", ConfigJson.instances(services.config()))));
            new RecordingRoutes(sessions, services.recorder()).register(config.routes);
            config.routes.delete("/api/sessions/{id}", ctx -> killSession(ctx, sessions));
            config.routes.post("/api/sessions/kill", ctx -> killIdentity(ctx, sessions));
            config.routes.get("/api/audit", ctx -> listAudit(ctx, audit));
            config.routes.get("/api/audit/verify", ctx -> ctx.json(AuditJson.verify(audit.verify())));
            config.routes.get("/api/vault", ctx -> listVault(ctx, services.vault()));
            config.routes.put("/api/vault/{name}", ctx -> putVault(ctx, services.vault()));
            config.routes.delete("/api/vault/{name}", ctx -> deleteVault(ctx, services.vault()));
            new ApprovalRoutes(services.approvals()).register(config.routes);
            config.routes.post("/api/admin/users", ctx -> createUser(ctx, services.users()));
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.warn("admin API: {} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, 500, "internal error in the admin API; see the gateway's log");
            });
        });
        try {
            app.start();
        } catch (RuntimeException e) {
            app.stop();
            throw new AdminStartException("admin: cannot listen on " + host + ":" + port + ": " + rootMessage(e), e);
        }
        URI url = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + app.port());
        AdminCredential credential = AdminCredential.generate(url);
        holder[0] = credential;
        try {
            credential.writeTo(credentialFile);
        } catch (IOException e) {
            app.stop();
            throw new AdminStartException("admin.credential_file: cannot write " + credentialFile + ": " + e.getMessage(), e);
        }
        page.listeningAt(url);
        LOG.info("admin API listening on {} (credential for the CLI in {})", url, credentialFile);
        return new AdminServer(app, credential, credentialFile);
    }

    public URI url() {
        return credential.url();
    }

    /**
     * What the admin API needs, from the gateway.
     *
     * @param plugins   the loaded PF4J plugins, for the plugins page
     * @param publicUrl admin.public_url, or null
     * @param oidcClientSecret admin.oidc's client secret (from its environment variable), or null
     */
    public record Services(SessionRegistry sessions, AuditLog audit, Approvals approvals, AdminUsers users,
                           io.pgwarden.config.GatewayConfig config, List<Map<String, Object>> plugins, URI publicUrl,
                           String oidcClientSecret, io.pgwarden.vault.Vault vault, Recorder recorder) {
        @Override
        public String toString() {
            return "Services[publicUrl=" + publicUrl + "]";
        }
    }

    /**
     * The CLI's bearer token, or a browser's login cookie; a browser's changing request must
     * also carry its session's CSRF token in {@code X-CSRF-Token}.
     */
    private static void authenticate(Context ctx, AdminCredential credential, BrowserSessions logins) {
        String header = ctx.header("Authorization");
        String presented = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
        if (presented == null) {
            BrowserSessions.Login login = logins.find(ctx.cookie(BrowserSessions.COOKIE));
            if (login != null) {
                boolean changes = !ctx.method().name().equals("GET") && !ctx.method().name().equals("HEAD");
                String csrf = ctx.header("X-CSRF-Token");
                if (changes && (csrf == null || !java.security.MessageDigest.isEqual(csrf.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        login.csrf().getBytes(java.nio.charset.StandardCharsets.UTF_8)))) {
                    error(ctx, 403, "the request lacks this session's CSRF token");
                    ctx.skipRemainingHandlers();
                    return;
                }
                ctx.attribute(USER_ATTRIBUTE, login.user());
                ctx.attribute(CSRF_ATTRIBUTE, login.csrf());
                return;
            }
        }
        if (credential == null || !credential.accepts(presented)) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"pgwarden\"");
            error(ctx, 401, presented == null ? "authentication required" : "the credential is not valid");
            ctx.skipRemainingHandlers();
        }
    }

    /** {@code pgwarden admin create-user} while the gateway runs: the store is the gateway's. */
    private static void createUser(Context ctx, AdminUsers users) throws Exception {
        if (actingUser(ctx) != null) {
            error(ctx, 403, "admin users are created with the CLI on the gateway's machine");
            return;
        }
        Map<?, ?> body = ctx.bodyAsClass(Map.class);
        if (!(body.get("name") instanceof String name) || !(body.get("password") instanceof String password)) {
            error(ctx, 400, "name and password are required");
            return;
        }
        try {
            users.createOrUpdate(name, password.toCharArray());
        } catch (IllegalArgumentException e) {
            error(ctx, 400, e.getMessage());
            return;
        }
        LOG.info("admin API: admin user {} created or its password set", name);
        ctx.json(Map.of("user", name));
    }

    private static void killSession(Context ctx, SessionRegistry sessions) {
        String id = ctx.pathParam("id");
        var session = sessions.byId(id);
        if (session.isEmpty()) {
            error(ctx, 404, "no live session " + id);
            return;
        }
        session.get().kill(actingUser(ctx) != null ? "admin user " + actingUser(ctx) + " on the admin page" : BY_ADMIN_API);
        ctx.json(Map.of("killed", List.of(id)));
    }

    private static void killIdentity(Context ctx, SessionRegistry sessions) {
        String identity = ctx.queryParam("identity");
        if (identity == null || identity.isBlank()) {
            error(ctx, 400, "the identity query parameter is required");
            return;
        }
        List<FrontendSession> matching = sessions.byIdentity(identity);
        matching.forEach(s -> s.kill(BY_ADMIN_API));
        LOG.info("admin API: ending {} session(s) of identity {}", matching.size(), identity);
        ctx.json(Map.of("killed", matching.stream().map(FrontendSession::id).toList()));
    }

    private static void listAudit(Context ctx, AuditLog audit) throws Exception {
        String identity = ctx.queryParam("identity");
        Instant since;
        int limit;
        try {
            since = ctx.queryParam("since") == null ? null : Instant.parse(ctx.queryParam("since"));
            limit = ctx.queryParam("limit") == null ? 100 : Integer.parseInt(ctx.queryParam("limit"));
        } catch (RuntimeException e) {
            error(ctx, 400, "since must be an ISO-8601 instant and limit a whole number");
            return;
        }
        if (limit < 1 || limit > 100_000) {
            error(ctx, 400, "limit must be between 1 and 100000");
            return;
        }
        ctx.json(Map.of("events", audit.list(identity, since, limit).stream().map(AuditJson::entry).toList()));
    }

    private static void listVault(Context ctx, Vault vault) throws VaultException {
        ctx.json(Map.of("secrets", vault.list().stream().map(e -> Map.of("name", e.name(), "created", e.created().toString(),
                "updated", e.updated().toString())).toList()));
    }

    /** The body is the secret itself; it is neither logged nor echoed. */
    private static void putVault(Context ctx, Vault vault) {
        String name = ctx.pathParam("name");
        byte[] secret = ctx.bodyAsBytes();
        try {
            vault.put(name, secret);
            LOG.info("admin API: vault secret {} stored", name);
            ctx.json(Map.of("stored", name));
        } catch (VaultException e) {
            error(ctx, 400, e.getMessage());
        } finally {
            java.util.Arrays.fill(secret, (byte) 0);
        }
    }

    private static void deleteVault(Context ctx, Vault vault) throws VaultException {
        String name = ctx.pathParam("name");
        if (!Vault.NAME.matcher(name).matches() || !vault.delete(name)) {
            error(ctx, 404, "the vault holds no secret named " + name);
            return;
        }
        LOG.info("admin API: vault secret {} deleted", name);
        ctx.json(Map.of("deleted", name));
    }

    static Map<String, Object> view(SessionInfo info) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", info.id());
        row.put("identity", info.identity());
        row.put("issuer", info.issuer());
        row.put("groups", info.groups().stream().sorted().toList());
        row.put("client", info.clientAddress());
        row.put("user", info.user());
        row.put("database", info.database());
        row.put("policy", info.policy());
        row.put("upstream", info.upstream());
        row.put("upstream_pid", info.upstreamPid());
        row.put("started", info.started().toString());
        row.put("expires", info.expires() == null ? null : info.expires().toString());
        return row;
    }

    /** The admin page's logged-in user a request acts for; null for the CLI's bearer token. */
    static String actingUser(Context ctx) {
        return ctx.attribute(USER_ATTRIBUTE);
    }

    static void error(Context ctx, int status, String message) {
        ctx.status(status).json(Map.of("error", message));
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    @Override
    public void close() {
        credential.removeFrom(credentialFile);
        app.stop();
    }
}
