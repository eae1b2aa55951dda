package io.pgwarden.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "version", description = "Print the version of pgwarden and of the Java runtime.")
final class VersionCommand implements Runnable {

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
    }

    @Override
    public void run() {
        for (String line : new Provider().getVersion()) {
            System.out.println(line);
        }
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgwarden " + version(), "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
