package io.pgwarden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.admin.AdminClient;
import io.pgwarden.admin.AdminClientException;
import io.pgwarden.admin.AuditJson;
import io.pgwarden.audit.AuditReader;
import io.pgwarden.config.Durations;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.store.StoreException;
import io.pgwarden.vault.Vault;
import io.pgwarden.vault.VaultException;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pgwarden audit list | verify}: through the running gateway's admin API, or, when no
 * gateway runs with this configuration, straight from its store (read only).
 */
@Command(name = "audit", description = "Read and check the audit trail, of a running gateway (through its admin API) "
        + "or of a stopped one (from its store).", subcommands = {AuditCommand.ListAudit.class, AuditCommand.VerifyAudit.class})
final class AuditCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static JsonNode fromGateway(LoadedConfig loaded, String path) throws AdminClientException {
        return ConfiguredCommand.askRunningGateway(loaded, client -> client.get(path));
    }

    @Command(name = "list", description = "Statements and session events, oldest first (the newest N that match). "
            + "JSON output is one object a line with at least time, session, identity, statement, decision, sqlstate, rows.")
    static final class ListAudit extends ConfiguredCommand {
        @Option(names = "--identity", paramLabel = "NAME", description = "Only this identity's events.")
        String identity;

        @Option(names = "--since", paramLabel = "TIME",
                description = "Only events from TIME on: an instant (2026-11-26T09:00:00Z), a date (2026-11-26, UTC) "
                        + "or a duration back from now (30m, 2h, 7d).")
        String since;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N events (default ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--json", description = "One JSON object a line instead of a table.")
        boolean json;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            Instant from;
            try {
                from = since == null ? null : parseSince(since, Instant.now());
            } catch (IllegalArgumentException e) {
                err.println("--since: " + e.getMessage());
                return 1;
            }
            if (limit < 1 || limit > 100_000) {
                err.println("--limit: must be between 1 and 100000");
                return 1;
            }
            List<JsonNode> events = new ArrayList<>();
            try {
                String query = "/api/audit?limit=" + limit + (identity != null ? "&identity=" + AdminClient.encode(identity) : "")
                        + (from != null ? "&since=" + AdminClient.encode(from.toString()) : "");
                JsonNode answer = fromGateway(loaded, query);
                if (answer != null) {
                    answer.path("events").forEach(events::add);
                } else {
                    try (Vault vault = ConfiguredCommand.openStoppedStore(loaded, "audit trail")) {
                        new AuditReader(vault.store()).list(identity, from, limit).forEach(e -> events.add(AuditJson.entry(e)));
                    }
                }
            } catch (AdminClientException | StoreException | VaultException e) {
                err.println(e.getMessage());
                return 1;
            }
            if (json) {
                events.forEach(e -> out.println(e.toString()));
                return 0;
            }
            String format = "%-27s  %-16s  %-20s  %-6s  %-7s  %-5s  %6s  %s%n";
            out.printf(format, "TIME", "SESSION", "IDENTITY", "DECIDE", "OUTCOME", "STATE", "ROWS", "STATEMENT / EVENT");
            for (JsonNode e : events) {
                String kind = e.path("kind").asText();
                String what = kind.equals("STATEMENT") ? oneLine(e.path("statement").asText(), 80) : kind;
                out.printf(format, e.path("time").asText(), e.path("session").asText(), e.path("identity").asText(),
                        e.path("decision").asText(""), e.path("pending").asBoolean() ? "pending" : e.path("outcome").asText(""),
                        e.path("sqlstate").asText(""), e.path("rows").asText(""), what);
            }
            return 0;
        }
    }

    @Command(name = "verify", description = "Check the audit trail's hash chain. Exit status 0: intact; 2: broken "
            + "(the first broken record is named); 1: it could not be read.")
    static final class VerifyAudit extends ConfiguredCommand {
        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            JsonNode result;
            try {
                result = fromGateway(loaded, "/api/audit/verify");
                if (result == null) {
                    try (Vault vault = ConfiguredCommand.openStoppedStore(loaded, "audit trail")) {
                        result = JSON.valueToTree(AuditJson.verify(new AuditReader(vault.store()).verify()));
                    }
                }
            } catch (AdminClientException | StoreException | VaultException e) {
                err.println(e.getMessage());
                return 1;
            }
            if (result.path("ok").asBoolean()) {
                out.println("audit trail " + result.path("summary").asText());
                return 0;
            }
            err.println("audit trail " + result.path("summary").asText());
            return 2;
        }
    }

    static Instant parseSince(String text, Instant now) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            try {
                return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException notADate) {
                try {
                    return now.minus(Durations.parse(text));
                } catch (IllegalArgumentException notADuration) {
                    throw new IllegalArgumentException("\"" + text + "\" is neither an instant (2026-11-26T09:00:00Z), "
                            + "a date (2026-11-26) nor a duration (30m, 2h, 7d)");
                }
            }
        }
    }

    private static String oneLine(String s, int max) {
        String line = s.replaceAll("\\s+", " ").trim();
        return line.length() <= max ? line : line.substring(0, max - 1) + "…";
    }
}
