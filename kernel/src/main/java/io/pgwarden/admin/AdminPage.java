package io.pgwarden.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.http.sse.SseClient;
import io.pgwarden.approval.ApprovalRecord;
import io.pgwarden.auth.AuthFailureLimiter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin page for people: a password login for local admin users, the single page
 * ({@code ui/index.html} with plain JavaScript, no build step) and its live approvals inbox
 * (server-sent events). Everything it shows comes from the JSON API under {@code /api}, with
 * the same authentication as the CLI's plus the login cookie.
 */
final class AdminPage {
    private static final Logger LOG = LoggerFactory.getLogger(AdminPage.class);
    /** Scripts and styles only from the page's own files: no inline script, so injected markup cannot run. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    private static final String LOGIN_COOKIE = "pgwarden_login";

    private final AdminServer.Services services;
    private final BrowserSessions logins;
    /** Password guesses per client address: the gateway's own limiter, at its default pace. */
    private final AuthFailureLimiter failures = new AuthFailureLimiter(10, Clock.systemUTC());
    /** admin.oidc, or null when people log in with local users only. */
    private final OidcLogin oidc;
    private static final String OIDC_COOKIE = "pgwarden_oidc";
    /** Where browsers reach the page: admin.public_url, else where it listens (known once it does). */
    private volatile java.net.URI base;

    AdminPage(AdminServer.Services services, BrowserSessions logins) {
        this.services = services;
        this.logins = logins;
        this.oidc = services.config().admin().oidc() == null ? null
                : new OidcLogin(services.config().admin().oidc(), services.oidcClientSecret(), Clock.systemUTC());
        this.base = services.publicUrl();
    }

    void listeningAt(java.net.URI url) {
        if (base == null) {
            base = url;
        }
    }

    private java.net.URI callback() {
        String b = base.toString();
        return java.net.URI.create((b.endsWith("/") ? b.substring(0, b.length() - 1) : b) + OidcLogin.CALLBACK);
    }

    void register(RoutesConfig routes) {
        routes.get("/", this::index);
        routes.get("/login", this::loginForm);
        routes.post("/login", this::login);
        routes.post("/logout", this::logout);
        routes.get("/login/oidc", this::oidcStart);
        routes.get(OidcLogin.CALLBACK, this::oidcCallback);
        routes.get("/ui/app.js", ctx -> asset(ctx, "app.js", "text/javascript; charset=utf-8"));
        routes.get("/ui/app.css", ctx -> asset(ctx, "app.css", "text/css; charset=utf-8"));
        routes.get("/approvals/{id}", ctx -> ctx.redirect("/#approval=" + ctx.pathParam("id"), HttpStatus.SEE_OTHER));
        routes.get("/api/me", ctx -> {
            String user = AdminServer.actingUser(ctx);
            if (user == null) {
                AdminServer.error(ctx, 404, "the CLI's credential is nobody's login");
                return;
            }
            ctx.json(Map.of("user", user, "csrf", ctx.attribute(AdminServer.CSRF_ATTRIBUTE)));
        });
        routes.sse("/api/approvals/events", this::approvalEvents);
    }

    /**
     * Whether cookies get the Secure flag: when the page is reached over HTTPS (directly, or
     * as admin.public_url says, behind a TLS proxy). Over plain HTTP a browser would drop them.
     */
    boolean secureCookies(Context ctx) {
        return "https".equals(ctx.scheme()) || services.publicUrl() != null && "https".equals(services.publicUrl().getScheme());
    }

    private void index(Context ctx) throws IOException {
        if (logins.find(ctx.cookie(BrowserSessions.COOKIE)) == null) {
            ctx.redirect("/login", HttpStatus.SEE_OTHER);
            return;
        }
        asset(ctx, "index.html", "text/html; charset=utf-8");
    }

    private void loginForm(Context ctx) {
        // Double-submit token: a site that posts a login form here cannot read or set this cookie.
        String token = BrowserSessions.token();
        cookie(ctx, LOGIN_COOKIE, token, 600);
        String failed = ctx.queryParam("failed") != null ? "<p class=\"error\" id=\"login-error\">Wrong user name or password.</p>" : "";
        ctx.html("""
                <!doctype html><html><head><meta charset="utf-8"><title>pgwarden - log in</title>
                <link rel="stylesheet" href="/ui/app.css"></head><body class="login"><main>
                <h1>pgwarden</h1>%s
                <form method="post" action="/login">
                <input type="hidden" name="csrf" value="%s">
                <label>User <input name="user" id="user" autocomplete="username" required></label>
                <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
                <button type="submit" id="login">Log in</button>
                </form>%s</main></body></html>
                """.formatted(failed, token, oidc == null ? ""
                : "<p><a id=\"oidc-login\" href=\"/login/oidc\">Log in with " + ApprovalRoutes.e(oidc.issuer()) + "</a></p>"));
    }

    private void login(Context ctx) throws Exception {
        String expected = ctx.cookie(LOGIN_COOKIE);
        String presented = ctx.formParam("csrf");
        if (expected == null || presented == null
                || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8))) {
            ctx.status(403).html("<!doctype html><p>The login form expired; <a href=\"/login\">try again</a>.</p>");
            return;
        }
        String address = ctx.ip();
        if (!failures.allows(address)) {
            LOG.warn("admin page: {} is over the failed-login limit", address);
            ctx.status(429).html("<!doctype html><p>Too many failed logins; wait a minute.</p>");
            return;
        }
        String user = ctx.formParam("user");
        String password = ctx.formParam("password");
        if (user == null || password == null || !services.users().check(user, password.toCharArray())) {
            failures.recordFailure(address);
            LOG.warn("admin page: failed login for {} from {}", user, address);
            ctx.redirect("/login?failed", HttpStatus.SEE_OTHER);
            return;
        }
        LOG.info("admin page: {} logged in from {}", user, address);
        cookie(ctx, BrowserSessions.COOKIE, logins.open(user, "password"), -1);
        cookie(ctx, LOGIN_COOKIE, "", 0);
        ctx.redirect("/", HttpStatus.SEE_OTHER);
    }

    private void logout(Context ctx) {
        String id = ctx.cookie(BrowserSessions.COOKIE);
        BrowserSessions.Login login = logins.find(id);
        String presented = ctx.formParam("csrf");
        if (login != null && presented != null && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8),
                login.csrf().getBytes(StandardCharsets.UTF_8))) {
            logins.close(id);
            LOG.info("admin page: {} logged out", login.user());
        }
        cookie(ctx, BrowserSessions.COOKIE, "", 0);
        ctx.redirect("/login", HttpStatus.SEE_OTHER);
    }

    /** HttpOnly, SameSite=Strict, Secure over HTTPS; maxAge -1 for a browser-session cookie, 0 to delete. */
    private void cookie(Context ctx, String name, String value, int maxAge) {
        cookie(ctx, name, value, maxAge, "Strict");
    }

    private void cookie(Context ctx, String name, String value, int maxAge, String sameSite) {
        ctx.res().addHeader("Set-Cookie", name + "=" + value + "; Path=/; HttpOnly; SameSite=" + sameSite
                + (maxAge >= 0 ? "; Max-Age=" + maxAge : "") + (secureCookies(ctx) ? "; Secure" : ""));
    }

    /** Sends the browser to the provider; a cookie binds the login to this browser. */
    private void oidcStart(Context ctx) {
        if (oidc == null) {
            ctx.status(404);
            return;
        }
        String browser = BrowserSessions.token();
        java.net.URI target;
        try {
            target = oidc.start(callback(), browser);
        } catch (Exception e) {
            LOG.warn("admin page: cannot reach the OIDC provider {}: {}", oidc.issuer(), e.toString());
            ctx.status(502).html("<!doctype html><p>The identity provider cannot be reached; try again later.</p>");
            return;
        }
        // Lax, not Strict: the provider sends the browser back with a cross-site navigation.
        cookie(ctx, OIDC_COOKIE, browser, (int) OidcLogin.PENDING.toSeconds(), "Lax");
        ctx.redirect(target.toString(), HttpStatus.SEE_OTHER);
    }

    private void oidcCallback(Context ctx) {
        if (oidc == null) {
            ctx.status(404);
            return;
        }
        cookie(ctx, OIDC_COOKIE, "", 0, "Lax");
        switch (oidc.finish(callback(), ctx.queryParam("state"), ctx.queryParam("code"), ctx.cookie(OIDC_COOKIE))) {
            case OidcLogin.Result.LoggedIn in -> {
                LOG.info("admin page: {} logged in through {} from {}", in.user(), in.issuer(), ctx.ip());
                cookie(ctx, BrowserSessions.COOKIE, logins.open(in.user(), in.issuer()), -1);
                // A page of our own rather than a redirect: the browser then sends the
                // SameSite=Strict cookie on the next request (a redirect would continue the
                // provider's cross-site navigation, which does not carry it).
                ctx.html("<!doctype html><html><head><meta http-equiv=\"refresh\" content=\"0;url=/\"></head>"
                        + "<body><a href=\"/\">Continue</a></body></html>");
            }
            case OidcLogin.Result.Refused r -> {
                LOG.warn("admin page: OIDC login refused from {}: {}", ctx.ip(), r.why());
                ctx.status(403).html("<!doctype html><p>Login refused. <a href=\"/login\">Back</a></p>");
            }
        }
    }

    private static void asset(Context ctx, String name, String type) throws IOException {
        try (InputStream in = AdminPage.class.getResourceAsStream("ui/" + name)) {
            if (in == null) {
                ctx.status(404);
                return;
            }
            ctx.contentType(type).result(in.readAllBytes());
        }
    }

    /** The live inbox: every request that opens or changes, as it happens. */
    private void approvalEvents(SseClient client) {
        client.keepAlive();
        Consumer<ApprovalRecord> listener = record -> {
            if (!client.terminated()) {
                client.sendEvent("approval", ApprovalJson.of(record));
            }
        };
        services.approvals().subscribe(listener);
        client.onClose(() -> services.approvals().unsubscribe(listener));
        client.sendComment("connected");
    }
}
