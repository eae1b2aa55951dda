package io.pgwarden.cli;

import io.pgwarden.admin.AdminClientException;
import io.pgwarden.config.LoadedConfig;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/**
 * {@code pgwarden health}: exit 0 when the gateway of this configuration is up, 1 otherwise.
 * The container image's and the VM unit's health check; it asks the admin API's
 * {@code /health} at the address the running gateway wrote into its credential file, so it
 * fails when the gateway is stopped, has not finished starting, or does not answer.
 */
@Command(name = "health", description = "Exit 0 when the gateway of this configuration is running and answers, 1 otherwise.")
final class HealthCommand extends ConfiguredCommand {

    @Override
    int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
        try {
            String status = adminClient(loaded).get("/health").path("status").asText();
            if (!"ok".equals(status)) {
                err.println("pgwarden: the gateway answered with status \"" + status + "\"");
                return 1;
            }
            out.println("ok");
            return 0;
        } catch (AdminClientException e) {
            err.println(e.getMessage());
            return 1;
        }
    }
}
