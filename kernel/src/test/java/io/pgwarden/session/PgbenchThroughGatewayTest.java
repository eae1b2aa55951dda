package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.server.Gateway;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pgbench through the gateway in all three query modes, with the read-write TPC-B-like
 * script and the select-only one. The pgbench tables live in a database of their own
 * ({@value #BENCH_DATABASE}) on the shared server, so no other test sees them: the gateway
 * here maps the client's database {@code app} (the upstream's name) to it.
 */
class PgbenchThroughGatewayTest {
    static final String BENCH_DATABASE = "pgbench_gw";
    private static final int CLIENTS = 4;
    private static final int TRANSACTIONS_PER_CLIENT = 200;

    private static LocalPostgres pg;
    private static Gateway gateway;
    private static Path pgbench;

    @BeforeAll
    static void start() throws Exception {
        pgbench = ExternalCommand.find("pgbench");
        Assumptions.assumeTrue(pgbench != null, "pgbench is not installed (neither on PATH nor in /usr/lib/postgresql/15/bin)");
        pg = TestPostgres.shared();
        pg.sql("postgres", "DROP DATABASE IF EXISTS " + BENCH_DATABASE + ";\nCREATE DATABASE " + BENCH_DATABASE + ";\n");
        var init = ExternalCommand.run(List.of(pgbench.toString(), "-i", "-s", "1", "-q"), Map.of("PGHOST", pg.host(),
                "PGPORT", Integer.toString(pg.port()), "PGDATABASE", BENCH_DATABASE, "PGUSER", pg.superuser(),
                "PGPASSWORD", pg.password(), "PGSSLMODE", "disable"), null, 300);
        assertThat(init.exitCode()).as("pgbench -i directly: %s", init.output()).isZero();

        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg));
        String appDatabase = "    database: " + TestPostgres.DATABASE + "\n";
        assertThat(yaml).contains(appDatabase);
        gateway = Gateway.start(TestGateway.load(yaml.replace(appDatabase, "    database: " + BENCH_DATABASE + "\n")),
                name -> name.equals("TEST_UPSTREAM_PASSWORD") ? pg.password() : null);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (pg != null && pgbench != null) {
            pg.sql("postgres", "DROP DATABASE IF EXISTS " + BENCH_DATABASE + " WITH (FORCE);\n");
        }
    }

    private static Map<String, String> throughGateway() {
        return Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(gateway.port()), "PGDATABASE", TestPostgres.DATABASE,
                "PGUSER", TestGateway.AGENT, "PGPASSWORD", TestGateway.AGENT_KEY, "PGSSLMODE", "disable", "PGCONNECT_TIMEOUT", "10");
    }

    @ParameterizedTest(name = "pgbench -M {0} {1}")
    @CsvSource({"simple, read-write", "extended, read-write", "prepared, read-write",
                "simple, select-only", "extended, select-only", "prepared, select-only"})
    void pgbenchRunsWithoutFailures(String mode, String script) throws Exception {
        List<String> command = new ArrayList<>(List.of(pgbench.toString(), "-M", mode, "-c", Integer.toString(CLIENTS),
                "-j", "2", "-t", Integer.toString(TRANSACTIONS_PER_CLIENT), "-n"));
        if (script.equals("select-only")) {
            command.add("-S");
        }
        long historyBefore = historyRows();
        var result = ExternalCommand.run(command, throughGateway(), null, 600);
        String out = result.output();
        assertThat(result.exitCode()).as("pgbench exit code; output:\n%s", out).isZero();
        assertThat(out).contains("query mode: " + mode, "number of clients: " + CLIENTS);
        int expected = CLIENTS * TRANSACTIONS_PER_CLIENT;
        assertThat(out).as(out).contains("number of transactions actually processed: " + expected + "/" + expected);
        Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
        if (failed.find()) {
            assertThat(failed.group(1)).as(out).isEqualTo("0");
        }
        assertThat(out).doesNotContain("error", "ERROR", "FATAL");
        // The read-write script appends one history row per transaction upstream; select-only writes none.
        long written = historyRows() - historyBefore;
        assertThat(written).isEqualTo(script.equals("read-write") ? expected : 0);
    }

    /**
     * The extended protocol pipelined: pgbench sends every statement between \startpipeline
     * and \endpipeline (Parse/Bind/Execute each) before one Sync, and reads all the results
     * afterwards, so the gateway holds many requests in flight on one connection.
     */
    @ParameterizedTest(name = "pgbench -M {0} with \\startpipeline")
    @CsvSource({"extended", "prepared"})
    void pipelinedScriptsRunWithoutFailures(String mode, @TempDir Path dir) throws Exception {
        Path script = dir.resolve("pipeline.sql");
        Files.writeString(script, """
                \\set aid random(1, 100000 * :scale)
                \\set delta random(-5000, 5000)
                \\startpipeline
                BEGIN;
                UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
                SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
                SELECT count(*) FROM pgbench_branches;
                INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP);
                END;
                \\endpipeline
                """);
        long historyBefore = historyRows();
        var result = ExternalCommand.run(List.of(pgbench.toString(), "-M", mode, "-c", Integer.toString(CLIENTS), "-j", "2",
                "-t", Integer.toString(TRANSACTIONS_PER_CLIENT), "-n", "-f", script.toString()), throughGateway(), null, 600);
        String out = result.output();
        assertThat(result.exitCode()).as("pgbench exit code; output:\n%s", out).isZero();
        int expected = CLIENTS * TRANSACTIONS_PER_CLIENT;
        assertThat(out).as(out).contains("query mode: " + mode,
                "number of transactions actually processed: " + expected + "/" + expected,
                "number of failed transactions: 0");
        assertThat(historyRows() - historyBefore).isEqualTo(expected);
    }

    private static long historyRows() throws Exception {
        return Long.parseLong(pg.sql(BENCH_DATABASE, "SELECT count(*) FROM pgbench_history;").strip());
    }
}
