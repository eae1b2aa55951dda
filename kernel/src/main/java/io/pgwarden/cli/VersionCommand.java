package io.pgwarden.cli;

import io.pgwarden.plugin.PluginHost;
import io.pgwarden.plugin.PluginLoadException;
import io.pgwarden.server.Gateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code pgwarden version}: what an operator quotes in a support request, namely the version
 * and commit the build came from, the Java runtime, and the plugins bundled beside it.
 */
@Command(name = "version", description = "Print the version and commit of pgwarden, the Java runtime and the bundled plugins.")
final class VersionCommand implements Callable<Integer> {
    /** Written by the kernel build (kernel/build-info.sh); absent in an IDE build. */
    static final String BUILD_PROPERTIES = "/io/pgwarden/cli/build.properties";

    @Spec
    CommandSpec spec;

    static String version() {
        return build().getProperty("version", "development build");
    }

    /** The abbreviated commit, with "-dirty" when the build tree had uncommitted changes. */
    static String commit() {
        Properties build = build();
        String commit = build.getProperty("commit", "");
        if (commit.length() < 12) {
            return "unknown";
        }
        return commit.substring(0, 12) + ("true".equals(build.getProperty("dirty")) ? "-dirty" : "");
    }

    private static Properties build() {
        Properties p = new Properties();
        try (InputStream in = VersionCommand.class.getResourceAsStream(BUILD_PROPERTIES)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // A jar that cannot be read would have failed long before; report no build data.
        }
        return p;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (String line : new Provider().getVersion()) {
            out.println(line);
        }
        Optional<Path> plugins = Gateway.bundledPluginDirectory();
        if (plugins.isEmpty()) {
            out.println("plugins: none bundled (" + Gateway.HOME_PROPERTY + " names no folder with plugins/)");
            return 0;
        }
        try {
            var bundled = PluginHost.describe(plugins.get());
            out.println("plugins (" + plugins.get() + "):" + (bundled.isEmpty() ? " none" : ""));
            bundled.forEach(p -> out.println("  " + p.id() + " " + p.version() + "  " + p.file().getFileName()));
            return 0;
        } catch (PluginLoadException e) {
            spec.commandLine().getErr().println("pgwarden: " + e.getMessage());
            return 1;
        }
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgwarden " + version() + " (commit " + commit() + ")",
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")"};
        }
    }
}
