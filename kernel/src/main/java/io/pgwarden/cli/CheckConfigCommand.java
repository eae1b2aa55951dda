package io.pgwarden.cli;

import io.pgwarden.config.LoadedConfig;
import io.pgwarden.config.UnenforcedSettings;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "check-config", description = "Validate a configuration file without starting the gateway: the file itself, "
        + "then the plugins it names, each checking its own entry. Exit status 0: `run` would accept it; 1: it would not "
        + "(the reasons are printed). The upstreams' password_env variables are read only by `run`; a plugin's own (the webhook sink's bearer_token_env) and the hash masker's key_env by both.")
final class CheckConfigCommand implements Callable<Integer> {

    @Mixin
    ConfigFileOption config;

    @Override
    public Integer call() {
        LoadedConfig loaded = config.loadOrReport();
        if (loaded == null) {
            return 1;
        }
        List<String> unenforced = UnenforcedSettings.find(loaded.config());
        if (!unenforced.isEmpty()) {
            System.err.println(config.file + ": valid, but asks for what this version cannot enforce:");
            unenforced.forEach(u -> System.err.println("  " + u));
            return 1;
        }
        try {
            Gateway.checkPlugins(loaded);
        } catch (GatewayStartException e) {
            System.err.println(config.file + ": " + e.getMessage());
            return 1;
        }
        System.out.println(config.file + ": ok (" + loaded.config().upstreams().size() + " upstream(s), "
                + loaded.config().authenticators().size() + " authenticator(s), "
                + loaded.config().policies().size() + " polic" + (loaded.config().policies().size() == 1 ? "y" : "ies") + ")");
        return 0;
    }
}
