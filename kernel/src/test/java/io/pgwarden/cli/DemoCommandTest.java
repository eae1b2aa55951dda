package io.pgwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.testing.ExternalCommand;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code pgwarden demo} as a new user meets it: a separate process, the printed psql line
 * pasted into psql, then SIGTERM (Ctrl-C's effect on the JVM), after which nothing of the
 * demo may be left: no PostgreSQL process, no temporary folder.
 */
class DemoCommandTest {
    private static final Pattern PSQL_LINE = Pattern.compile("psql \"(host=127\\.0\\.0\\.1 port=\\d+ dbname=app user=demo-agent password=\\S+ sslmode=require)\"");
    private static final Pattern CONFIG_LINE = Pattern.compile("config:\\s+(\\S+)");
    private static final Pattern PG_LINE = Pattern.compile("PostgreSQL:\\s+127\\.0\\.0\\.1:(\\d+)");
    /** The data folder of the demo's own server, once known: the only one the test may stop. */
    private static String demoServer;

    @Test
    void thePrintedPsqlLineWorksAndSigtermRemovesEverything() throws Exception {
        Path psql = ExternalCommand.find("psql");
        Assumptions.assumeTrue(psql != null, "psql is not installed");
        java.util.Set<String> serversBefore = serverDataDirs();
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process demo = new ProcessBuilder(java, "-Dpgwarden.home=" + Path.of("target/dist").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), "io.pgwarden.cli.Main", "demo", "--port", "0")
                .redirectErrorStream(true).start();
        List<String> output = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
            String connection = null;
            Path configFile = null;
            String pgPort = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (connection == null && System.nanoTime() < deadline) {
                String line = out.readLine();
                if (line == null) {
                    break;
                }
                output.add(line);
                Matcher config = CONFIG_LINE.matcher(line);
                if (config.find()) {
                    configFile = Path.of(config.group(1));
                }
                Matcher port = PG_LINE.matcher(line);
                if (port.find()) {
                    pgPort = port.group(1);
                }
                Matcher m = PSQL_LINE.matcher(line);
                if (m.find()) {
                    connection = m.group(1);
                }
            }
            assertThat(connection).as("the demo printed a psql line; output:\n%s", String.join("\n", output)).isNotNull();
            assertThat(configFile).isNotNull();
            Path demoDir = configFile.getParent();

            ExternalCommand.Result query = ExternalCommand.run(List.of(psql.toString(), connection, "-X", "-A", "-t", "-c",
                    "SELECT count(*) FROM customers WHERE email LIKE '%@example.com'"), Map.of(), null, 60);
            assertThat(query.exitCode()).as(query.output()).isZero();
            assertThat(query.output().strip()).isEqualTo("200");

            // Other builds on the machine may start servers meanwhile: the demo's is the one on its port.
            java.util.Set<String> demoServers = serverDataDirs();
            demoServers.removeAll(serversBefore);
            String demoPort = pgPort;
            demoServers.removeIf(dir -> !demoPort.equals(postmasterPort(dir)));
            assertThat(demoServers).as("the demo started one PostgreSQL, on port %s", demoPort).hasSize(1);
            String pgDataHint = demoServers.iterator().next();
            demoServer = pgDataHint;
            demo.destroy(); // SIGTERM
            assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo exits after SIGTERM").isTrue();
            assertThat(Files.exists(demoDir)).as("demo folder %s removed", demoDir).isFalse();
            assertThat(Files.exists(Path.of(pgDataHint))).as("PostgreSQL folder %s removed", pgDataHint).isFalse();
            assertThat(ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains(pgDataHint)))
                    .as("no PostgreSQL left running on %s", pgDataHint).isFalse();
        } finally {
            demo.destroyForcibly();
            // Whatever failed above, leave no server behind for the rest of the build.
            // Only the demo's own server: never one of another test or build running meanwhile.
            java.util.Set<String> leftovers = serverDataDirs();
            leftovers.removeAll(serversBefore);
            leftovers.removeIf(dir -> demoServer == null || !dir.equals(demoServer));
            for (String dir : leftovers) {
                List<String> stop = new ArrayList<>();
                if ("root".equals(System.getProperty("user.name"))) {
                    stop.addAll(List.of("runuser", "-u", "postgres", "--"));
                }
                stop.addAll(List.of(io.pgwarden.devdb.LocalPostgres.findBinDir().resolve("pg_ctl").toString(),
                        "-D", dir + "/data", "-m", "immediate", "stop"));
                ExternalCommand.run(stop, Map.of(), null, 60);
            }
        }
    }

    /** The data folder's server port (line 4 of postmaster.pid), or null. */
    private static String postmasterPort(String dir) {
        try {
            List<String> lines = Files.readAllLines(Path.of(dir, "data", "postmaster.pid"));
            return lines.size() > 3 ? lines.get(3).strip() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** The folders of the local PostgreSQL servers running now (LocalPostgres names them pgwarden-pg-*). */
    private static java.util.Set<String> serverDataDirs() {
        return ProcessHandle.allProcesses()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("/bin/postgres -D ") && c.contains("pgwarden-pg-"))
                .map(c -> Path.of(c.substring(c.indexOf(" -D ") + 4).split(" ")[0]).getParent().toString())
                .collect(java.util.stream.Collectors.toCollection(java.util.HashSet::new));
    }
}
