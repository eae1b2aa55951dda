package io.pgwarden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.admin.AdminClient;
import io.pgwarden.admin.AdminClientException;
import io.pgwarden.config.LoadedConfig;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pgwarden approvals list | approve | deny}: approval requests of a running gateway, through its admin API. */
@Command(name = "approvals", description = "List, approve or deny the approval requests of a running gateway (through its admin API).",
        subcommands = {ApprovalsCommand.ListApprovals.class, ApprovalsCommand.Approve.class, ApprovalsCommand.Deny.class})
final class ApprovalsCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", description = "List pending approval requests, oldest first (--all: decided ones too). "
            + "JSON output is one object a line.")
    static final class ListApprovals extends ConfiguredCommand {
        @Option(names = "--all", description = "Also the decided requests the gateway still remembers.")
        boolean all;

        @Option(names = "--json", description = "One JSON object a line instead of a table.")
        boolean json;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            JsonNode approvals;
            try {
                approvals = adminClient(loaded).get("/api/approvals" + (all ? "?all=true" : "")).path("approvals");
            } catch (AdminClientException e) {
                err.println(e.getMessage());
                return 1;
            }
            if (json) {
                approvals.forEach(a -> out.println(a.toString()));
                return 0;
            }
            String format = "%-12s  %-9s  %-20s  %-20s  %-20s  %s%n";
            out.printf(format, "ID", "STATUS", "IDENTITY", "CREATED", "RULE", "STATEMENT");
            approvals.forEach(a -> out.printf(format, a.path("id").asText(), a.path("status").asText(), a.path("identity").asText(),
                    SessionsCommand.seconds(a.path("created").asText()), a.path("rule").asText(), oneLine(a.path("statement").asText())));
            return 0;
        }

        private static String oneLine(String statement) {
            String flat = statement.replaceAll("\\s+", " ").strip();
            return flat.length() > 80 ? flat.substring(0, 77) + "..." : flat;
        }
    }

    /** approve and deny: the same request, another verb. */
    abstract static class Decide extends ConfiguredCommand {
        @Parameters(paramLabel = "ID", description = "The request's id, as the waiting client and `approvals list` show it.")
        String id;

        @Option(names = "--as", required = true, paramLabel = "NAME",
                description = "Who decides, as the audit trail records it (never the identity that sent the statement).")
        String as;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Why; recorded, and a denial's reason is shown to the client.")
        String reason;

        abstract String verb();

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            Map<String, String> body = new LinkedHashMap<>();
            body.put("as", as);
            if (reason != null) {
                body.put("reason", reason);
            }
            try {
                JsonNode r = adminClient(loaded).post("/api/approvals/" + AdminClient.encode(id) + "/" + verb(), body);
                out.println("approval request " + r.path("id").asText() + " " + r.path("status").asText() + " by " + as);
                return 0;
            } catch (AdminClientException e) {
                err.println(e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "approve", description = "Approve a request: a held statement runs once; a ticket may be used once.")
    static final class Approve extends Decide {
        @Override
        String verb() {
            return "approve";
        }
    }

    @Command(name = "deny", description = "Deny a request: the held statement is refused with SQLSTATE 42501.")
    static final class Deny extends Decide {
        @Override
        String verb() {
            return "deny";
        }
    }
}
