package io.pgwarden.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pgwarden} command line. */
@Command(name = "pgwarden",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "Identity-aware PostgreSQL gateway for autonomous agents.",
        subcommands = {RunCommand.class, CheckConfigCommand.class, DemoCommand.class, SessionsCommand.class, ReplayCommand.class, AuditCommand.class, HealthCommand.class, VaultCommand.class, ApprovalsCommand.class, AdminCommand.class, VersionCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
