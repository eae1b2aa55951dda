package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * psql through the gateway must behave exactly as it does against PostgreSQL directly: each
 * scenario runs the same psql command both ways and compares what psql printed.
 */
class PsqlThroughGatewayTest {
    private static final long DEADLINE_SECONDS = 120;

    private static LocalPostgres pg;
    private static TestGateway gateway;
    private static Path psql;

    @BeforeAll
    static void start() {
        psql = ExternalCommand.find("psql");
        org.junit.jupiter.api.Assumptions.assumeTrue(psql != null, "psql is not installed (neither on PATH nor in /usr/lib/postgresql/15/bin)");
        pg = TestPostgres.shared();
        gateway = TestGateway.start(pg);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    /** libpq environment for the same database, straight to PostgreSQL as the gateway's own upstream user. */
    static Map<String, String> directEnvironment() {
        return Map.of("PGHOST", pg.host(), "PGPORT", Integer.toString(pg.port()), "PGDATABASE", TestPostgres.DATABASE,
                "PGUSER", pg.superuser(), "PGPASSWORD", pg.password(), "PGSSLMODE", "disable", "PGCONNECT_TIMEOUT", "10");
    }

    private static List<String> psql(String... args) {
        List<String> command = new ArrayList<>(List.of(psql.toString(), "-X"));
        command.addAll(List.of(args));
        return command;
    }

    /** Runs the command through the gateway and directly; both must print the same and exit alike. */
    private static ExternalCommand.Result sameBothWays(List<String> command, String stdin) throws Exception {
        ExternalCommand.Result direct = ExternalCommand.run(command, directEnvironment(), stdin, DEADLINE_SECONDS);
        ExternalCommand.Result through = ExternalCommand.run(command, gateway.libpqEnvironment(), stdin, DEADLINE_SECONDS);
        assertThat(through.output()).as("psql output through the gateway vs directly").isEqualTo(direct.output());
        assertThat(through.exitCode()).as("psql exit code through the gateway vs directly").isEqualTo(direct.exitCode());
        return through;
    }

    @Test
    void aMultiStatementCommandStringPrintsEveryResult() throws Exception {
        var result = sameBothWays(psql("-c", "SELECT 1 AS one; SELECT 2 AS two; CREATE TEMP TABLE multi_t (id int, v text); "
                + "INSERT INTO multi_t VALUES (1, 'a'), (2, 'b'); SELECT * FROM multi_t ORDER BY id"), null);
        assertThat(result.exitCode()).isZero();
        // psql 15 shows the result of every statement of a multi-statement string, not only the last.
        assertThat(result.output()).contains(" one \n-----\n   1\n(1 row)", " two \n-----\n   2\n(1 row)",
                "CREATE TABLE", "INSERT 0 2", " id | v \n----+---\n  1 | a\n  2 | b\n(2 rows)");
    }

    @Test
    void aScriptOnStdinWithSeveralStatementsPerLine() throws Exception {
        String script = """
                CREATE TEMP TABLE script_t (id int PRIMARY KEY, label text); INSERT INTO script_t SELECT g, 'row ' || g FROM generate_series(1, 5) g;
                SELECT count(*) FROM script_t; SELECT label FROM script_t WHERE id IN (2, 4) ORDER BY id;
                BEGIN; UPDATE script_t SET label = upper(label) WHERE id = 1; SAVEPOINT s; DELETE FROM script_t; ROLLBACK TO s; COMMIT;
                SELECT id, label FROM script_t ORDER BY id; SET application_name = 'psql-script'; SHOW application_name;
                """;
        var result = sameBothWays(psql("-v", "ON_ERROR_STOP=1"), script);
        assertThat(result.exitCode()).isZero();
        assertThat(result.output()).contains("INSERT 0 5", "     5\n(1 row)", " row 2\n row 4\n(2 rows)",
                "  1 | ROW 1\n  2 | row 2", "psql-script");
    }

    @Test
    void anErrorInTheMiddleOfAScriptDoesNotStopItWithoutOnErrorStop() throws Exception {
        String script = """
                SELECT 'before' AS step;
                SELECT 1/0; SELECT 'same line, after the error' AS step;
                SELECT * FROM no_such_table_psql;
                BEGIN; SELECT 1/0; SELECT 'in a failed transaction'; ROLLBACK;
                DO $$ BEGIN RAISE NOTICE 'a notice from %', 'plpgsql'; RAISE WARNING 'and a warning'; END $$;
                CREATE TEMP TABLE copy_err (id int);
                \\copy copy_err from stdin
                1
                not a number
                \\.
                SELECT count(*) AS copied FROM copy_err;
                SELECT 'after' AS step;
                """;
        var result = sameBothWays(psql("-v", "ON_ERROR_STOP=0"), script);
        assertThat(result.exitCode()).isZero();
        assertThat(result.output()).contains("before", "ERROR:  division by zero", "same line, after the error",
                "relation \"no_such_table_psql\" does not exist",
                "current transaction is aborted, commands ignored until end of transaction block", "ROLLBACK",
                "NOTICE:  a notice from plpgsql", "WARNING:  and a warning",
                "invalid input syntax for type integer: \"not a number\"", "      0\n(1 row)", " after\n");
    }

    @Test
    void onErrorStopEndsTheScriptAtTheFirstError() throws Exception {
        var result = sameBothWays(psql("-v", "ON_ERROR_STOP=1"), "SELECT 'first';\nSELECT 1/0;\nSELECT 'never';\n");
        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.output()).contains("first", "division by zero").doesNotContain("never");
    }

    @Test
    void backslashCopyFromStdinAndToStdoutInCsv() throws Exception {
        String script = """
                CREATE TEMP TABLE copy_psql (id int, label text, amount numeric(8,2), note text);
                \\copy copy_psql from stdin with (format csv)
                1,one,1.50,
                2,"two, with a comma",2.25,"quoted ""note""\"
                3,three,,"multi
                line"
                \\.
                \\copy copy_psql (id, label) from stdin
                4	four
                5	five\\twith tab
                \\.
                SELECT count(*) FROM copy_psql;
                \\copy (SELECT * FROM copy_psql ORDER BY id) to stdout with (format csv, header)
                \\copy copy_psql to stdout
                """;
        var result = sameBothWays(psql("-v", "ON_ERROR_STOP=1"), script);
        assertThat(result.exitCode()).isZero();
        assertThat(result.output()).contains("COPY 3", "COPY 2", "     5\n(1 row)",
                "id,label,amount,note\n1,one,1.50,\n2,\"two, with a comma\",2.25,\"quoted \"\"note\"\"\"\n3,three,,\"multi\nline\"\n4,four,,\n5,five\twith tab,,\n",
                "5\tfive\\twith tab\t\\N\t\\N\n");
    }

    @Test
    void binaryCopyToStdoutIsByteForByteTheSameAsDirectly(@TempDir Path dir) throws Exception {
        // Every type here has a fixed binary form (no time zone or locale in it).
        String copy = "COPY (SELECT g AS id, 'text ' || g AS label, (g * 1.25)::numeric(10,2) AS amount, "
                + "('2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour') AS at, "
                + "CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END AS digest, "
                + "ARRAY[g, g * 2] AS pair, g % 2 = 0 AS even, gen_random_uuid() IS NOT NULL AS ok "
                + "FROM generate_series(1, 5000) g) TO STDOUT (FORMAT binary)";
        Path direct = dir.resolve("direct.bin");
        Path through = dir.resolve("gateway.bin");
        int directExit = runToFile(psql("-q", "-c", copy), directEnvironment(), direct);
        int throughExit = runToFile(psql("-q", "-c", copy), gateway.libpqEnvironment(), through);
        assertThat(directExit).isZero();
        assertThat(throughExit).isZero();
        byte[] expected = Files.readAllBytes(direct);
        byte[] actual = Files.readAllBytes(through);
        // The binary COPY signature, then data: this really is binary and non-trivial.
        assertThat(expected).startsWith("PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(expected.length).isGreaterThan(100_000);
        assertThat(actual).isEqualTo(expected);

        // And back in: the binary file loaded through the gateway gives the same table.
        String load = "CREATE TEMP TABLE bin_in (id int, label text, amount numeric(10,2), at timestamptz, digest bytea, "
                + "pair int[], even boolean, ok boolean);\n"
                + "\\copy bin_in from '" + through + "' with (format binary)\n"
                + "SELECT count(*), sum(id), md5(string_agg(bin_in::text, '|' ORDER BY id)) FROM bin_in;\n";
        var loaded = sameBothWays(psql("-v", "ON_ERROR_STOP=1", "-A", "-t"), load);
        assertThat(loaded.exitCode()).isZero();
        assertThat(loaded.output()).contains("COPY 5000", "5000|12502500|");
    }

    @Test
    void aLargeCopyFromAProgramStreamsThroughTheGateway() throws Exception {
        // About 15 MB from a program psql runs itself: more than any socket buffer, so the
        // gateway's backpressure between client and upstream is exercised.
        String script = """
                CREATE TEMP TABLE big_copy (n bigint, pad text);
                \\copy big_copy from program 'seq -f "%.0f\tpadding-padding-padding" 1 500000'
                SELECT count(*), sum(n), count(DISTINCT pad) FROM big_copy;
                \\copy (SELECT n FROM big_copy WHERE n % 100000 = 0 ORDER BY n) to stdout
                """;
        var result = sameBothWays(psql("-v", "ON_ERROR_STOP=1", "-A", "-t"), script);
        assertThat(result.exitCode()).isZero();
        assertThat(result.output()).contains("COPY 500000", "500000|125000250000|1", "100000\n200000\n300000\n400000\n500000\n");
    }

    /** Runs a command with stdout going to {@code file} untouched (no text decoding); stderr is reported on failure. */
    private static int runToFile(List<String> command, Map<String, String> env, Path file) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(file.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        var stderr = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                p.getErrorStream().transferTo(stderr);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        if (!p.waitFor(DEADLINE_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("psql did not finish within " + DEADLINE_SECONDS + "s; stderr: " + stderr);
        }
        reader.join(5000);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).as("psql stderr").isEmpty();
        return p.exitValue();
    }

    @Test
    void ctrlCCancelsTheRunningStatementThroughTheGateway() throws Exception {
        assertCtrlCCancels(psql, pg, gateway.libpqEnvironment());
    }

    /**
     * Starts psql running pg_sleep(60) with {@code env}, waits until the upstream shows it
     * running, sends SIGINT (what Ctrl-C does) and expects psql's cancel to end the statement.
     */
    static void assertCtrlCCancels(Path psql, LocalPostgres upstream, Map<String, String> env) throws Exception {
        String applicationName = "psql-cancel-" + UUID.randomUUID();
        ProcessBuilder pb = new ProcessBuilder(psql.toString(), "-X", "-c", "SELECT pg_sleep(60)").redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("PGAPPNAME", applicationName);
        Process p = pb.start();
        p.getOutputStream().close();
        var output = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                p.getInputStream().transferTo(output);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        try {
            TestPostgres.awaitActiveQuery(upstream, "pg_sleep(60)");
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
            assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(kill.exitValue()).isZero();
            // pg_sleep(60) would run on for a minute; a cancel that reached the upstream ends it now.
            // The deadline is generous: it only tells "cancelled" from "hung until the sleep ended".
            assertThat(p.waitFor(40, TimeUnit.SECONDS)).as("psql exits after Ctrl-C; output so far: %s", output).isTrue();
            reader.join(5000);
            assertThat(output.toString(StandardCharsets.UTF_8)).contains("ERROR:  canceling statement due to user request");
            assertThat(p.exitValue()).isEqualTo(1);
        } finally {
            p.destroyForcibly();
        }
    }
}
