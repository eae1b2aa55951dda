package io.pgwarden.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.pgwarden.approval.ApprovalException;
import io.pgwarden.approval.ApprovalRecord;
import io.pgwarden.approval.ApprovalStatus;
import io.pgwarden.approval.Approvals;
import java.util.Map;
import org.eclipse.jetty.util.StringUtil;

/**
 * Approval requests in the admin API ({@code /api/approvals}, behind the API's
 * authentication) and the pages the signed links of notifications open. A link's GET only
 * shows the request and a form (mail scanners and chat previews follow links; they must
 * decide nothing); the form's POST decides, as the link's recipient. The signature is the
 * form's CSRF token as well: nobody without the link can make one.
 */
final class ApprovalRoutes {
    /** For the link pages: nothing loads from anywhere, forms post only back here. */
    private static final String PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'";

    private final Approvals approvals;

    ApprovalRoutes(Approvals approvals) {
        this.approvals = approvals;
    }

    void register(RoutesConfig routes) {
        routes.get("/api/approvals", ctx -> ctx.json(Map.of("approvals",
                approvals.list("true".equals(ctx.queryParam("all"))).stream().map(ApprovalJson::of).toList())));
        routes.get("/api/approvals/{id}", ctx -> {
            var record = approvals.record(ctx.pathParam("id"));
            if (record.isEmpty()) {
                AdminServer.error(ctx, 404, "no approval request " + ctx.pathParam("id"));
            } else {
                ctx.json(ApprovalJson.of(record.get()));
            }
        });
        routes.post("/api/approvals/{id}/approve", ctx -> decideThroughApi(ctx, true));
        routes.post("/api/approvals/{id}/deny", ctx -> decideThroughApi(ctx, false));
        routes.get("/approvals/{id}/link", this::linkPage);
        routes.post("/approvals/{id}/link", this::linkDecision);
    }

    /**
     * The CLI, on the gateway's own machine with its credential: the operator names who
     * decides ({@code --as}). The browser's session supplies the name itself.
     */
    private void decideThroughApi(Context ctx, boolean approve) {
        Map<?, ?> body = ctx.body().isBlank() ? Map.of() : ctx.bodyAsClass(Map.class);
        String by = AdminServer.actingUser(ctx);
        String via = "web";
        if (by == null) {
            by = body.get("as") instanceof String s ? s : null;
            via = "cli";
        }
        String reason = body.get("reason") instanceof String s ? s : null;
        try {
            ctx.json(ApprovalJson.of(approvals.decide(ctx.pathParam("id"), approve, by, via, reason)));
        } catch (ApprovalException e) {
            AdminServer.error(ctx, e.status(), e.getMessage());
        }
    }

    private record Link(String id, String action, String to, String via) {
    }

    /** The link's fields when its signature is good; otherwise answers 403 and returns null. */
    private Link verifiedLink(Context ctx, boolean fromForm) {
        String id = ctx.pathParam("id");
        java.util.function.Function<String, String> param = fromForm ? ctx::formParam : ctx::queryParam;
        Link link = new Link(id, param.apply("action"), param.apply("to"), param.apply("via"));
        if (!("approve".equals(link.action) || "deny".equals(link.action))
                || !approvals.links().verify(id, link.action, link.to, link.via, param.apply("sig"))) {
            page(ctx.status(403), "Link not valid", "<p>This approval link is not valid (or the gateway has restarted since it was sent).</p>");
            return null;
        }
        return link;
    }

    private void linkPage(Context ctx) {
        Link link = verifiedLink(ctx, false);
        if (link == null) {
            return;
        }
        var record = approvals.record(link.id);
        if (record.isEmpty()) {
            page(ctx.status(404), "Unknown request", "<p>No approval request " + e(link.id) + ".</p>");
            return;
        }
        ApprovalRecord r = record.get();
        StringBuilder body = new StringBuilder(details(r));
        if (r.status() != ApprovalStatus.PENDING) {
            body.append("<p>This request is already <b>").append(e(r.status().name().toLowerCase(java.util.Locale.ROOT)))
                    .append("</b>.</p>");
        } else {
            body.append("<form method=\"post\">")
                    .append(hidden("action", link.action)).append(hidden("to", link.to)).append(hidden("via", link.via))
                    .append(hidden("sig", ctx.queryParam("sig")))
                    .append("<p><label>Reason (optional)<br><textarea name=\"reason\" rows=\"3\" cols=\"60\"></textarea></label></p>")
                    .append("<p><button type=\"submit\" id=\"decide\">").append("approve".equals(link.action) ? "Approve" : "Deny")
                    .append(" as ").append(e(link.to)).append("</button></p></form>");
        }
        page(ctx, ("approve".equals(link.action) ? "Approve" : "Deny") + " request " + r.id(), body.toString());
    }

    private void linkDecision(Context ctx) {
        Link link = verifiedLink(ctx, true);
        if (link == null) {
            return;
        }
        try {
            ApprovalRecord r = approvals.decide(link.id, "approve".equals(link.action), link.to, link.via, ctx.formParam("reason"));
            page(ctx, "Request " + r.id() + " " + r.status().name().toLowerCase(java.util.Locale.ROOT),
                    details(r) + "<p>Recorded: <b>" + e(r.status().name().toLowerCase(java.util.Locale.ROOT)) + "</b> by "
                            + e(link.to) + ".</p>");
        } catch (ApprovalException ex) {
            page(ctx.status(ex.status()), "Not recorded", "<p>" + e(ex.getMessage()) + "</p>");
        }
    }

    static String details(ApprovalRecord r) {
        var q = r.request();
        return "<table>"
                + row("Request", q.id()) + row("Identity", q.identity()) + row("Groups", String.join(", ", q.groups()))
                + row("Client", q.clientAddress()) + row("Database", q.database()) + row("Rule", q.rule())
                + row("Why", q.reason()) + row("Held at", q.created().toString()) + row("Expires", q.expires().toString())
                + "</table><pre id=\"statement\">" + e(q.statement()) + "</pre>";
    }

    private static String row(String name, String value) {
        return "<tr><th align=\"left\">" + e(name) + "</th><td>" + e(value == null ? "" : value) + "</td></tr>";
    }

    private static String hidden(String name, String value) {
        return "<input type=\"hidden\" name=\"" + name + "\" value=\"" + e(value) + "\">";
    }

    private static void page(Context ctx, String title, String body) {
        ctx.header("Content-Security-Policy", PAGE_POLICY);
        ctx.html("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + e(title) + " - pgwarden</title></head>"
                + "<body style=\"font-family:sans-serif;max-width:60em;margin:2em auto\"><h1>" + e(title) + "</h1>" + body
                + "</body></html>");
    }

    static String e(String text) {
        return StringUtil.sanitizeXmlString(text == null ? "" : text);
    }
}
