package io.pgwarden.cli;

import io.pgwarden.config.LoadedConfig;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", description = "Run the gateway in the foreground, logging to standard output. "
        + "SIGTERM or Ctrl-C stops accepting, lets sessions finish within limits.shutdown_grace, then ends the rest.")
final class RunCommand implements Callable<Integer> {

    @Mixin
    ConfigFileOption config;

    @Override
    public Integer call() throws InterruptedException {
        LoadedConfig loaded = config.loadOrReport();
        if (loaded == null) {
            return 1;
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(loaded, System::getenv);
        } catch (GatewayStartException e) {
            System.err.println("pgwarden: cannot start: " + e.getMessage());
            return 1;
        }
        awaitShutdown(gateway, loaded.config().limits().shutdownGrace());
        return 0;
    }

    /** Blocks until SIGTERM/SIGINT, then shuts the gateway down gracefully inside the hook. */
    static void awaitShutdown(Gateway gateway, java.time.Duration grace) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("pgwarden-shutdown").unstarted(() -> {
            gateway.shutdown(grace);
            stopped.countDown();
        }));
        stopped.await();
    }
}
