package io.pgwarden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.admin.AdminClient;
import io.pgwarden.admin.AdminClientException;
import io.pgwarden.config.LoadedConfig;
import java.io.PrintWriter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgwarden sessions list | kill}: the live and recorded sessions of a running gateway, through its admin API. */
@Command(name = "sessions", description = "List the live and recorded sessions of a running gateway, or end live ones "
        + "(through its admin API).",
        subcommands = {SessionsCommand.ListSessions.class, SessionsCommand.KillSessions.class})
final class SessionsCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", description = "List the live sessions and the newest recorded ones (see recording.enabled), "
            + "oldest first; a live session is marked so. JSON output is one object a line.")
    static final class ListSessions extends ConfiguredCommand {
        @Option(names = "--identity", paramLabel = "NAME", description = "Only the sessions of this identity.")
        String identity;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most the newest N recorded sessions (default ${DEFAULT-VALUE}); live ones are always listed.")
        int limit;

        @Option(names = "--json", description = "One JSON object a line instead of a table.")
        boolean json;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            JsonNode sessions;
            try {
                sessions = adminClient(loaded).get("/api/sessions?limit=" + limit
                        + (identity != null ? "&identity=" + AdminClient.encode(identity) : "")).path("sessions");
            } catch (AdminClientException e) {
                err.println(e.getMessage());
                return 1;
            }
            if (json) {
                sessions.forEach(s -> out.println(s.toString()));
                return 0;
            }
            String format = "%-16s  %-24s  %-15s  %-12s  %-12s  %-20s  %-20s  %10s%n";
            out.printf(format, "ID", "IDENTITY", "CLIENT", "DATABASE", "POLICY", "STARTED", "ENDED", "STATEMENTS");
            sessions.forEach(s -> out.printf(format, s.path("id").asText(), s.path("identity").asText(),
                    s.path("client").asText(), s.path("database").asText(), s.path("policy").asText(),
                    seconds(s.path("started").asText()),
                    s.path("live").asBoolean() ? "live" : s.path("ended").isNull() ? "unknown" : seconds(s.path("ended").asText()),
                    s.path("statements").isNull() ? "-" : s.path("statements").asText()));
            return 0;
        }
    }

    /** An ISO instant to the second, for the table. */
    static String seconds(String instant) {
        try {
            return java.time.Instant.parse(instant).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        } catch (java.time.format.DateTimeParseException e) {
            return instant;
        }
    }

    @Command(name = "kill", description = "End one session by id, or every live session of an identity. The client "
            + "gets FATAL 57P01 (\"terminating connection due to administrator command\"). Exit status 0 when no "
            + "matching session is left; 1 when the id names no live session or the gateway cannot be reached.")
    static final class KillSessions extends ConfiguredCommand {
        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        static final class Target {
            @Parameters(paramLabel = "ID", description = "A session id, as `sessions list` shows it.")
            String id;

            @Option(names = "--identity", paramLabel = "NAME", description = "End every live session of this identity.")
            String identity;
        }

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            try {
                AdminClient client = adminClient(loaded);
                JsonNode killed = target.id != null
                        ? client.delete("/api/sessions/" + AdminClient.encode(target.id)).path("killed")
                        : client.post("/api/sessions/kill?identity=" + AdminClient.encode(target.identity)).path("killed");
                if (killed.isEmpty()) {
                    out.println("no live session of identity " + target.identity);
                }
                killed.forEach(id -> out.println("ended session " + id.asText()));
                return 0;
            } catch (AdminClientException e) {
                err.println(e.getMessage());
                return 1;
            }
        }
    }
}
