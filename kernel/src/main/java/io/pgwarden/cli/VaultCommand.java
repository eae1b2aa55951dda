package io.pgwarden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.admin.AdminClient;
import io.pgwarden.admin.AdminClientException;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.store.StoreException;
import io.pgwarden.vault.Vault;
import io.pgwarden.vault.VaultException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code pgwarden vault put | list | delete | rotate-key}: the credential vault. {@code put},
 * {@code list} and {@code delete} go through the running gateway's admin API, or, when no
 * gateway runs with this configuration, to the store itself (unlocked with the master key,
 * as the gateway does). {@code rotate-key} rewrites the keyring and the key file only.
 */
@Command(name = "vault", description = "Keep upstream passwords in the gateway's encrypted store, for credential.password_ref: \"vault:NAME\".",
        subcommands = {VaultCommand.Put.class, VaultCommand.ListSecrets.class, VaultCommand.Delete.class, VaultCommand.RotateKey.class})
final class VaultCommand implements Runnable {
    /** The most a secret may be: more is a mistake (a file piped by accident). */
    static final int MAX_SECRET_BYTES = 64 << 10;
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "put", description = "Store (or replace) the secret NAME, read from standard input (one trailing newline is "
            + "dropped). It is never printed.")
    static final class Put extends ConfiguredCommand {
        @Parameters(paramLabel = "NAME", description = "The secret's name, as in password_ref: \"vault:NAME\".")
        String name;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            byte[] secret;
            try {
                secret = readSecret(System.in);
            } catch (IOException e) {
                err.println("cannot read the secret from standard input: " + e.getMessage());
                return 1;
            }
            if (secret.length == 0) {
                err.println("no secret on standard input (e.g. read -rs PW && printf %s \"$PW\" | pgwarden vault put " + name + " …)");
                return 1;
            }
            try {
                JsonNode answer = askRunningGateway(loaded, client -> client.put("/api/vault/" + AdminClient.encodePath(name), secret));
                if (answer == null) {
                    try (Vault vault = Vault.open(loaded, System::getenv)) {
                        vault.put(name, secret);
                    }
                }
            } catch (AdminClientException | VaultException | StoreException e) {
                err.println(e.getMessage());
                return 1;
            } finally {
                Arrays.fill(secret, (byte) 0);
            }
            out.println("stored " + name);
            return 0;
        }
    }

    @Command(name = "list", description = "The secrets' names and dates (never their values).")
    static final class ListSecrets extends ConfiguredCommand {
        @Option(names = "--json", description = "One JSON object a line instead of a table.")
        boolean json;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            List<Map<String, String>> rows = new ArrayList<>();
            try {
                JsonNode answer = askRunningGateway(loaded, client -> client.get("/api/vault"));
                if (answer != null) {
                    answer.path("secrets").forEach(s -> rows.add(Map.of("name", s.path("name").asText(),
                            "created", s.path("created").asText(), "updated", s.path("updated").asText())));
                } else {
                    try (Vault vault = Vault.open(loaded, System::getenv)) {
                        vault.list().forEach(e -> rows.add(Map.of("name", e.name(), "created", e.created().toString(),
                                "updated", e.updated().toString())));
                    }
                }
            } catch (AdminClientException | VaultException | StoreException e) {
                err.println(e.getMessage());
                return 1;
            }
            if (json) {
                rows.forEach(r -> out.println(JSON.valueToTree(r)));
                return 0;
            }
            String format = "%-32s  %-20s  %s%n";
            out.printf(format, "NAME", "CREATED", "UPDATED");
            rows.forEach(r -> out.printf(format, r.get("name"), SessionsCommand.seconds(r.get("created")),
                    SessionsCommand.seconds(r.get("updated"))));
            return 0;
        }
    }

    @Command(name = "delete", description = "Remove the secret NAME. Exit status 1 when there is none.")
    static final class Delete extends ConfiguredCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            boolean deleted;
            try {
                JsonNode answer = askRunningGateway(loaded, client -> client.delete("/api/vault/" + AdminClient.encodePath(name)));
                if (answer != null) {
                    deleted = true;
                } else {
                    try (Vault vault = Vault.open(loaded, System::getenv)) {
                        deleted = vault.delete(name);
                    }
                }
            } catch (AdminClientException e) {
                err.println(e.getMessage());
                return 1;
            } catch (VaultException | StoreException e) {
                err.println(e.getMessage());
                return 1;
            }
            if (!deleted) {
                err.println("the vault holds no secret named " + name);
                return 1;
            }
            out.println("deleted " + name);
            return 0;
        }
    }

    @Command(name = "rotate-key", description = "Replace the vault's master key with a new random one: the keyring is re-wrapped "
            + "and the new key written to vault.key_file (or to --new-key-file). Works while the gateway runs. Back the new key up.")
    static final class RotateKey extends ConfiguredCommand {
        @Option(names = "--new-key-file", paramLabel = "FILE",
                description = "Write the new key here instead of replacing vault.key_file (required when the key comes from vault.key_env).")
        Path newKeyFile;

        @Override
        int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
            try {
                String id = Vault.rotateMasterKey(loaded, System::getenv, newKeyFile == null ? null : newKeyFile.toAbsolutePath().normalize());
                out.println("master key replaced; new key id " + id
                        + (newKeyFile != null ? " in " + newKeyFile.toAbsolutePath() + " (the old key no longer opens the store)" : ""));
                return 0;
            } catch (VaultException | StoreException e) {
                err.println(e.getMessage());
                return 1;
            }
        }
    }

    /** Standard input, less one trailing newline (what {@code echo} adds). */
    static byte[] readSecret(InputStream in) throws IOException {
        byte[] all = in.readNBytes(MAX_SECRET_BYTES + 1);
        if (all.length > MAX_SECRET_BYTES) {
            Arrays.fill(all, (byte) 0);
            throw new IOException("more than " + MAX_SECRET_BYTES + " bytes");
        }
        int end = all.length;
        if (end > 0 && all[end - 1] == '\n') {
            end--;
            if (end > 0 && all[end - 1] == '\r') {
                end--;
            }
        }
        byte[] secret = Arrays.copyOf(all, end);
        Arrays.fill(all, (byte) 0);
        return secret;
    }
}
