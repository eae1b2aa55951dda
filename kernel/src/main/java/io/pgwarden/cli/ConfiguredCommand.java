package io.pgwarden.cli;

import io.pgwarden.admin.AdminClient;
import io.pgwarden.admin.AdminClientException;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import io.pgwarden.vault.Vault;
import io.pgwarden.vault.VaultException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that reads {@code --config FILE} and prints through picocli's writers (so tests
 * can capture them): loads the file, reports its problems and exits 1, or runs.
 */
abstract class ConfiguredCommand implements Callable<Integer> {
    @Mixin
    ConfigFileOption config;

    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LoadedConfig loaded = config.loadOrReport();
        return loaded == null ? 1 : run(loaded, out, err);
    }

    abstract int run(LoadedConfig loaded, PrintWriter out, PrintWriter err);

    /** A request to the running gateway's admin API. */
    @FunctionalInterface
    interface AdminCall {
        com.fasterxml.jackson.databind.JsonNode send(AdminClient client) throws AdminClientException;
    }

    /**
     * Asks the running gateway; null when none runs with this configuration (no credential
     * file, or one left by a gateway that is gone), so the caller can use the store itself.
     */
    static com.fasterxml.jackson.databind.JsonNode askRunningGateway(LoadedConfig loaded, AdminCall call) throws AdminClientException {
        AdminClient client;
        try {
            client = adminClient(loaded);
        } catch (AdminClientException noCredential) {
            return null;
        }
        try {
            return call.send(client);
        } catch (AdminClientException e) {
            if (e.status() == 0) {
                return null; // a credential left by a gateway that is gone
            }
            throw e;
        }
    }

    /**
     * The stopped gateway's store, unlocked with its master key (vault.key_file or
     * vault.key_env, as the gateway reads it); the message says why when there is none.
     *
     * @param what what the caller looks for, for that message ("audit trail", "recordings")
     */
    static Vault openStoppedStore(LoadedConfig loaded, String what) throws StoreException, VaultException {
        Path base = Store.fileBase(Store.resolveUrl(loaded.config().store().url(), loaded.baseDir()));
        if (!Files.exists(base.resolveSibling(base.getFileName() + ".mv.db"))) {
            throw new StoreException("no " + what + " at " + base + ".mv.db: the gateway has not run with this configuration yet");
        }
        return Vault.open(loaded, System::getenv);
    }

    /** The running gateway's admin API, from the credential it wrote. */
    static AdminClient adminClient(LoadedConfig loaded) throws AdminClientException {
        return AdminClient.fromCredentialFile(loaded.resolve(loaded.config().admin().credentialFile()));
    }

    /**
     * Calls the running gateway's admin API; null when no gateway runs with this
     * configuration (no credential, or one left by a gateway that is gone), so the caller
     * works on the stopped gateway's store instead.
     */
    static com.fasterxml.jackson.databind.JsonNode fromRunningGateway(LoadedConfig loaded, String path) throws AdminClientException {
        return askRunningGateway(loaded, client -> client.get(path));
    }
}
