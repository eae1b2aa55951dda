package io.pgwarden.plugins.approverslack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.plugin.api.ApprovalRequest;
import io.pgwarden.plugin.api.Approver;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * POSTs one message (Block Kit) per request to the incoming webhook: who asks, the rule, the
 * statement as code, and two link buttons. Everyone who can read the channel can follow them
 * and decides as the channel ({@code slack #channel}): choose the channel accordingly. A
 * non-2xx answer is an error (the gateway logs it and records it; the inbox still has the request).
 */
final class SlackApprover implements Approver {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Slack cuts a section's text at 3,000 characters. */
    static final int MAX_STATEMENT_CHARS = 2_800;

    private final SlackApproverFactory.Settings settings;
    private final HttpClient client;

    SlackApprover(SlackApproverFactory.Settings settings) {
        this.settings = settings;
        this.client = HttpClient.newBuilder().connectTimeout(settings.timeout()).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public void deliver(ApprovalRequest request, LinkMaker links) throws IOException, InterruptedException {
        String body = message(request, links.forRecipient(settings.recipient()));
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(settings.webhook())
                .timeout(settings.timeout())
                .header("Content-Type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            // The webhook's URL is a secret: the error names the status only.
            throw new IOException("the Slack webhook answered HTTP " + response.statusCode());
        }
    }

    static String message(ApprovalRequest r, ApprovalRequest.Links links) {
        ObjectNode root = JSON.createObjectNode();
        root.put("text", "pgwarden: approval needed for " + r.identity() + " (request " + r.id() + ")");
        ArrayNode blocks = root.putArray("blocks");
        section(blocks, "*Approval needed* — request `" + r.id() + "`\n"
                + "*Identity:* " + escape(r.identity()) + " (" + escape(String.join(", ", r.groups())) + ")\n"
                + "*Client:* " + escape(r.clientAddress()) + ", database " + escape(r.database()) + "\n"
                + "*Rule:* " + escape(r.rule()) + ": " + escape(r.reason()) + "\n"
                + "*Expires:* " + r.expires());
        String statement = r.statement().length() > MAX_STATEMENT_CHARS
                ? r.statement().substring(0, MAX_STATEMENT_CHARS) + "…" : r.statement();
        section(blocks, "```" + escape(statement.replace("```", "`\u200b``")) + "```");
        ArrayNode buttons = blocks.addObject().put("type", "actions").putArray("elements");
        button(buttons, "Approve…", links.approve().toString(), "primary", "approve");
        button(buttons, "Deny…", links.deny().toString(), "danger", "deny");
        blocks.addObject().put("type", "context").putArray("elements").addObject().put("type", "mrkdwn")
                .put("text", "Each button opens a confirmation page on the gateway. Inbox: " + r.page());
        return root.toString();
    }

    private static void section(ArrayNode blocks, String mrkdwn) {
        blocks.addObject().put("type", "section").putObject("text").put("type", "mrkdwn").put("text", mrkdwn);
    }

    private static void button(ArrayNode buttons, String label, String url, String style, String id) {
        ObjectNode b = buttons.addObject().put("type", "button").put("url", url).put("style", style).put("action_id", id);
        b.putObject("text").put("type", "plain_text").put("text", label);
    }

    /** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
    static String escape(String text) {
        return text == null ? "" : text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
