package io.pgwarden.cli;

import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.config.UnenforcedSettings;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "check-config", description = "Validate a configuration file without starting the gateway. "
        + "Exit status 0: `run` would accept it; 1: it would not (the reasons are printed).")
final class CheckConfigCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The configuration file (YAML).")
    Path config;

    @Override
    public Integer call() {
        try {
            LoadedConfig loaded = ConfigLoader.load(config);
            List<String> unenforced = UnenforcedSettings.find(loaded.config());
            if (!unenforced.isEmpty()) {
                System.err.println(config + ": valid, but asks for what this version cannot enforce:");
                unenforced.forEach(u -> System.err.println("  " + u));
                return 1;
            }
            Gateway.checkPlugins(loaded);
            System.out.println(config + ": ok (" + loaded.config().upstreams().size() + " upstream(s), "
                    + loaded.config().authenticators().size() + " authenticator(s), "
                    + loaded.config().policies().size() + " polic" + (loaded.config().policies().size() == 1 ? "y" : "ies") + ")");
            return 0;
        } catch (ConfigException e) {
            e.problems().forEach(System.err::println);
            return 1;
        } catch (GatewayStartException e) {
            System.err.println(config + ": " + e.getMessage());
            return 1;
        }
    }
}
