package io.pgwarden.cli;

import io.pgwarden.admin.AdminClientException;
import io.pgwarden.admin.AdminUsers;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pgwarden admin create-user NAME}: a local user of the admin page (password on standard input). */
@Command(name = "admin", description = "Manage the admin page's local users.", subcommands = AdminCommand.CreateUser.class)
final class AdminCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create-user", description = "Create a local admin user, or set an existing one's password. The password "
            + "(at least 12 characters) is read from the first line of standard input. Works while the gateway runs (through "
            + "its admin API) and while it is stopped (in its store).")
    static final class CreateUser extends ConfiguredCommand {
        @Parameters(paramLabel = "NAME", description = "The user's name: letters, digits, '.', '_', '@', '-'.")
        String name;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            String password;
            try {
                password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                err.println("cannot read the password from standard input: " + e.getMessage());
                return 1;
            }
            if (password == null || password.isEmpty()) {
                err.println("give the password on standard input, e.g.: read -rs PW && printf '%s\\n' \"$PW\" | pgwarden admin create-user "
                        + name + " --config FILE");
                return 1;
            }
            try {
                if (fromRunningGateway(loaded, "/api/approvals") != null) {
                    adminClient(loaded).post("/api/admin/users", Map.of("name", name, "password", password));
                } else {
                    // The stopped gateway's store: the vault's master key unlocks it.
                    try (io.pgwarden.vault.Vault vault = io.pgwarden.vault.Vault.open(loaded, System::getenv)) {
                        new AdminUsers(vault.store()).createOrUpdate(name, password.toCharArray());
                    }
                }
            } catch (AdminClientException | StoreException | io.pgwarden.vault.VaultException | IllegalArgumentException e) {
                err.println(e.getMessage());
                return 1;
            }
            out.println("admin user " + name + " can log in to the admin page");
            return 0;
        }
    }
}
