package io.pgwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.RawPgClient;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;
import org.postgresql.util.PSQLException;

/**
 * A read-only policy through a real gateway and PostgreSQL: every way of writing is
 * refused with 42501 (simple and extended protocol, pipelined, multi-statement, hidden in a
 * CTE, EXPLAIN ANALYZE, PREPARE/EXECUTE, DO, COPY FROM, role switching, comments, odd
 * casing and quoting), the session stays usable, and the database is unchanged afterwards.
 */
class ReadOnlyPolicyThroughGatewayTest {
    private static LocalPostgres pg;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        pg = TestPostgres.shared();
        pg.sql(TestPostgres.DATABASE, """
                DROP SCHEMA IF EXISTS ro CASCADE;
                DROP SCHEMA IF EXISTS hr CASCADE;
                CREATE SCHEMA ro;
                CREATE SCHEMA hr;
                CREATE TABLE ro.items (id int PRIMARY KEY, name text);
                INSERT INTO ro.items VALUES (1, 'one'), (2, 'two');
                CREATE TABLE ro.secrets (id int, secret text);
                INSERT INTO ro.secrets VALUES (1, 'hunter2');
                CREATE TABLE hr.salaries (id int, amount int);
                INSERT INTO hr.salaries VALUES (1, 100);
                CREATE TABLE hr.items (id int);
                INSERT INTO hr.items VALUES (1);
                CREATE TABLE hr.notes AS SELECT 'topsecret'::text AS note FROM generate_series(1, 100);
                ANALYZE hr.notes;
                CREATE SEQUENCE ro.seq;
                CREATE SEQUENCE hr.seq;
                """);
        String yaml = TestGateway.yamlWithPolicy(pg, """
                    allow: { commands: [SELECT, COPY_TO], relations: ["ro.*"] }
                    deny: { relations: [ro.secrets] }
                """);
        assertThat(yaml).contains("relations: [\"ro.*\"]");
        gateway = TestGateway.start(yaml, pg.password());
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    /** The rows of ro.items, hr.salaries and ro.secrets, read directly: what must not change. */
    private static String databaseState() throws Exception {
        return pg.sql(TestPostgres.DATABASE, "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM ro.items "
                + "UNION ALL SELECT string_agg(id || ':' || amount, ',') FROM hr.salaries "
                + "UNION ALL SELECT count(*)::text FROM pg_class WHERE relname = 'evil'");
    }

    private static void assertRefused(Statement s, String sql) {
        assertThatThrownBy(() -> s.execute(sql)).as(sql).isInstanceOfSatisfying(PSQLException.class, e -> {
            assertThat(e.getSQLState()).as(sql).isIn("42501", "26000");
            assertThat(e.getServerErrorMessage()).isNotNull();
            if (e.getSQLState().equals("42501")) {
                assertThat(e.getServerErrorMessage().getMessage()).as(sql).startsWith("permission denied by pgwarden policy \"testers\"");
                assertThat(e.getServerErrorMessage().getHint()).as(sql).isNotBlank();
            }
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "INSERT INTO ro.items VALUES (3, 'three')",
            "UPDATE ro.items SET name = 'x'",
            "DELETE FROM ro.items",
            "TRUNCATE ro.items",
            "MERGE INTO ro.items t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE",
            "WITH d AS (DELETE FROM ro.items RETURNING *) SELECT * FROM d",
            "EXPLAIN ANALYZE DELETE FROM ro.items",
            "CREATE TABLE ro.evil (x int)",
            "SELECT * INTO ro.evil FROM ro.items",
            "CREATE TABLE ro.evil AS SELECT * FROM ro.items",
            "DO $$ BEGIN DELETE FROM ro.items; END $$",
            "SET ROLE postgres",
            "SET SESSION AUTHORIZATION postgres",
            "ALTER SYSTEM SET work_mem = '1GB'",
            "COPY ro.items FROM PROGRAM 'echo 9,nine'",
            "COPY ro.items TO '/tmp/pgwarden-items.csv'",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT lo_import('/etc/passwd')",
            "SELECT query_to_xml('DELETE FROM ro.items RETURNING *', true, false, '')",
            "SELECT set_config('search_path', 'hr', false)",
            "/* just a comment */ dElEtE /* hidden */ FROM \"ro\".\"items\" -- trailing",
            "delete from RO.ITEMS",
            "SELECT 1; DELETE FROM ro.items",
            "SELECT * FROM ro.secrets",
            "SELECT * FROM hr.salaries",
            "SELECT (SELECT secret FROM ro.secrets LIMIT 1)",
            "SELECT * FROM ro.items WHERE id IN (SELECT id FROM hr.salaries)",
            "PREPARE p1 AS DELETE FROM ro.items",
            "EXECUTE never_prepared",
            "LOCK ro.items IN ACCESS EXCLUSIVE MODE",
            "GRANT SELECT ON ro.secrets TO PUBLIC",
            "CREATE ROLE evil",
            "SELECT pg_terminate_backend(1)",
            "VACUUM",
            "LOAD 'auto_explain'",
            "NOTIFY ch, 'x'"
    })
    void everyWritePathAndForbiddenReadIsRefusedInTheSimpleProtocol(String sql) throws Exception {
        String before = databaseState();
        try (Connection c = gateway.connect(java.util.Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
            assertRefused(s, sql);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM ro.items")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("the session stays usable").isEqualTo(2);
            }
        }
        assertThat(databaseState()).isEqualTo(before);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "INSERT INTO ro.items VALUES (3, 'three')",
            "WITH d AS (DELETE FROM ro.items RETURNING *) SELECT * FROM d",
            "EXPLAIN ANALYZE UPDATE ro.items SET name = 'x'",
            "SELECT * FROM ro.secrets"
    })
    void theExtendedProtocolIsRefusedAtParse(String sql) throws Exception {
        String before = databaseState();
        try (Connection c = gateway.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            assertThatThrownBy(ps::execute).isInstanceOfSatisfying(PSQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM ro.items")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
        }
        assertThat(databaseState()).isEqualTo(before);
    }

    @Test
    void theRefusalNamesThePolicyTheCommandAndTheRelationWithAHint() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            PSQLException e = (PSQLException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> s.execute("DELETE FROM ro.items WHERE id = 1"));
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getServerErrorMessage().getMessage())
                    .isEqualTo("permission denied by pgwarden policy \"testers\": DELETE on ro.items is not allowed");
            assertThat(e.getServerErrorMessage().getHint()).isEqualTo("Policy \"testers\" allows the commands SELECT, COPY_TO.");
        }
    }

    @Test
    void aPipelinedBatchWithARefusedStatementRunsNoneOfItsWrites() throws Exception {
        String before = databaseState();
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            s.addBatch("SELECT 1");
            s.addBatch("UPDATE ro.items SET name = 'batched'");
            s.addBatch("SELECT 2");
            assertThatThrownBy(s::executeBatch).isInstanceOf(SQLException.class);
            try (ResultSet rs = s.executeQuery("SELECT name FROM ro.items ORDER BY id")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("one");
            }
        }
        assertThat(databaseState()).isEqualTo(before);
    }

    @Test
    void aRefusalInsideATransactionAbortsItAsAnyErrorWould() throws Exception {
        try (Connection c = gateway.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeQuery("SELECT 1").close();
            assertRefused(s, "DELETE FROM ro.items");
            assertThatThrownBy(() -> s.executeQuery("SELECT 1")).isInstanceOfSatisfying(PSQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
            c.rollback();
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM ro.items")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
        }
    }

    @Test
    void preparedThenExecutedAtSqlLevelIsCheckedAtPrepareAndAtExecute() throws Exception {
        try (Connection c = gateway.connect(java.util.Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
            s.execute("PREPARE ok AS SELECT name FROM ro.items WHERE id = $1");
            try (ResultSet rs = s.executeQuery("EXECUTE ok(1)")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("one");
            }
            assertRefused(s, "PREPARE bad AS DELETE FROM ro.items");
            // The refused PREPARE never reached the database: EXECUTE finds nothing, here or there.
            assertRefused(s, "EXECUTE bad");
        }
    }

    @Test
    void anUnqualifiedNameIsCheckedInEverySchemaTheSessionsSearchPathMayHold() throws Exception {
        // currentSchema=ro makes pgjdbc start the session with search_path ro (a startup parameter).
        try (Connection c = gateway.connect(java.util.Map.of("preferQueryMode", "simple", "currentSchema", "ro"));
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
            assertRefused(s, "SELECT * FROM secrets");
            s.execute("SET search_path = hr");
            // salaries resolves to hr.salaries now; and "items" could be hr.items: both refused.
            assertRefused(s, "SELECT * FROM salaries");
            assertRefused(s, "SELECT * FROM items");
            // Going back does not forget hr: a SET that failed or was rolled back looks the same.
            s.execute("SET search_path = ro");
            assertRefused(s, "SELECT * FROM items");
            assertThat(s.executeQuery("SELECT count(*) FROM ro.items").next()).isTrue();
        }
    }

    private static byte[] cstrings(String... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String p : parts) {
            out.writeBytes(p.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /** Bind of statement s1 to the unnamed portal (no parameters, text results), Execute, Sync. */
    private static void bindExecuteSync(RawPgClient client) throws Exception {
        java.io.ByteArrayOutputStream bind = new java.io.ByteArrayOutputStream();
        bind.writeBytes(cstrings("", "s1"));
        bind.writeBytes(new byte[] {0, 0, 0, 0, 0, 0});
        client.send('B', bind.toByteArray());
        java.io.ByteArrayOutputStream execute = new java.io.ByteArrayOutputStream();
        execute.writeBytes(cstrings(""));
        execute.writeBytes(new byte[] {0, 0, 0, 0});
        client.send('E', execute.toByteArray());
        client.send('S', new byte[0]);
    }

    @Test
    void aStatementParsedBeforeTheSearchPathChangedIsDecidedAgainWhenExecuted() throws Exception {
        // PostgreSQL re-resolves a prepared statement's names under the current search_path.
        try (RawPgClient client = RawPgClient.connect(gateway.port(), java.time.Duration.ofSeconds(10))) {
            java.util.Map<String, String> p = new java.util.LinkedHashMap<>();
            p.put("user", TestGateway.AGENT);
            p.put("database", TestPostgres.DATABASE);
            p.put("options", "-c search_path=ro");
            client.startup(p);
            client.readUntil('R');
            client.password(TestGateway.AGENT_KEY);
            client.readUntil('Z');

            java.io.ByteArrayOutputStream parse = new java.io.ByteArrayOutputStream();
            parse.writeBytes(cstrings("s1", "SELECT count(*) FROM items"));
            parse.writeBytes(new byte[] {0, 0});
            client.send('P', parse.toByteArray());
            bindExecuteSync(client);
            assertThat(client.readUntil('C').body()).startsWith("SELECT 1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            client.readUntil('Z');

            client.query("SET search_path = hr");
            client.readUntil('Z');
            bindExecuteSync(client);
            assertThatThrownBy(() -> client.readUntil('C')).isInstanceOfSatisfying(RawPgClient.ServerError.class, e -> {
                assertThat(e.error().sqlState()).isEqualTo("42501");
                assertThat(e.error().fields().get('M')).contains("items is not allowed");
            });
            client.readUntil('Z');
        }
    }

    /** A raw session whose search_path is ro (unqualified names resolve there, and are allowed). */
    private static RawPgClient rawSessionOnRo() throws Exception {
        RawPgClient client = RawPgClient.connect(gateway.port(), java.time.Duration.ofSeconds(10));
        java.util.Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("user", TestGateway.AGENT);
        p.put("database", TestPostgres.DATABASE);
        p.put("options", "-c search_path=ro");
        client.startup(p);
        client.readUntil('R');
        client.password(TestGateway.AGENT_KEY);
        client.readUntil('Z');
        return client;
    }

    private static void parse(RawPgClient client, String name, String sql) throws Exception {
        java.io.ByteArrayOutputStream parse = new java.io.ByteArrayOutputStream();
        parse.writeBytes(cstrings(name, sql));
        parse.writeBytes(new byte[] {0, 0});
        client.send('P', parse.toByteArray());
    }

    /** Bind of {@code statement} to the unnamed portal, Execute, Sync: the answer must be the policy's refusal. */
    private static void assertBindExecuteRefused(RawPgClient client, String statement) throws Exception {
        java.io.ByteArrayOutputStream bind = new java.io.ByteArrayOutputStream();
        bind.writeBytes(cstrings("", statement));
        bind.writeBytes(new byte[] {0, 0, 0, 0, 0, 0});
        client.send('B', bind.toByteArray());
        client.send('E', cstringsAndInt(""));
        client.send('S', new byte[0]);
        assertThatThrownBy(() -> client.readUntil('C')).isInstanceOfSatisfying(RawPgClient.ServerError.class,
                e -> assertThat(e.error().sqlState()).isEqualTo("42501"));
        client.readUntil('Z');
    }

    private static byte[] cstringsAndInt(String name) {
        java.io.ByteArrayOutputStream execute = new java.io.ByteArrayOutputStream();
        execute.writeBytes(cstrings(name));
        execute.writeBytes(new byte[] {0, 0, 0, 0});
        return execute.toByteArray();
    }

    @Test
    void aStatementPreparedAtSqlLevelAndBoundThroughTheProtocolIsDecidedAgainAfterTheSearchPathGrew() throws Exception {
        // SQL PREPARE and the protocol's Parse share one namespace: Bind can name a PREPAREd statement.
        try (RawPgClient client = rawSessionOnRo()) {
            client.query("PREPARE s1 AS SELECT count(*) FROM items");
            client.readUntil('Z');
            client.query("SET search_path = hr");
            client.readUntil('Z');
            assertBindExecuteRefused(client, "s1");
        }
    }

    @Test
    void aSecondParseUnderAnExistingNameDoesNotHideTheFirstWhichTheDatabaseKeeps() throws Exception {
        try (RawPgClient client = rawSessionOnRo()) {
            parse(client, "s1", "SELECT count(*) FROM items");
            client.send('S', new byte[0]);
            client.readUntil('Z');
            client.query("SET search_path = hr");
            client.readUntil('Z');
            // PostgreSQL refuses it (42P05, s1 exists) and keeps running the first s1 under the new path.
            parse(client, "s1", "SELECT 1");
            client.send('S', new byte[0]);
            assertThatThrownBy(() -> client.readUntil('Z')).isInstanceOfSatisfying(RawPgClient.ServerError.class,
                    e -> assertThat(e.error().sqlState()).isEqualTo("42P05"));
            client.readUntil('Z');
            assertBindExecuteRefused(client, "s1");
        }
    }

    @Test
    void aRefusedParseUnderAnExistingNameDoesNotHideTheFirstWhichTheDatabaseKeeps() throws Exception {
        try (RawPgClient client = rawSessionOnRo()) {
            parse(client, "s1", "SELECT count(*) FROM items");
            client.send('S', new byte[0]);
            client.readUntil('Z');
            client.query("SET search_path = hr");
            client.readUntil('Z');
            parse(client, "s1", "SELECT * FROM hr.salaries");
            client.send('S', new byte[0]);
            assertThatThrownBy(() -> client.readUntil('Z')).isInstanceOf(RawPgClient.ServerError.class);
            client.readUntil('Z');
            assertBindExecuteRefused(client, "s1");
        }
    }

    @Test
    void aParseTheDatabaseSkippedAfterAnErrorInItsBatchDoesNotReplaceTheUnnamedStatement() throws Exception {
        try (RawPgClient client = rawSessionOnRo()) {
            parse(client, "", "SELECT count(*) FROM items");
            client.send('S', new byte[0]);
            client.readUntil('Z');
            // Through the protocol: a simple Query would drop the unnamed statement upstream.
            parse(client, "set", "SET search_path = hr");
            java.io.ByteArrayOutputStream bind = new java.io.ByteArrayOutputStream();
            bind.writeBytes(cstrings("p", "set"));
            bind.writeBytes(new byte[] {0, 0, 0, 0, 0, 0});
            client.send('B', bind.toByteArray());
            client.send('E', cstringsAndInt("p"));
            client.send('S', new byte[0]);
            client.readUntil('Z');
            // The refusal fails the batch; PostgreSQL skips the second Parse up to the Sync.
            parse(client, "x", "SELECT * FROM hr.salaries");
            parse(client, "", "SELECT 1");
            client.send('S', new byte[0]);
            assertThatThrownBy(() -> client.readUntil('Z')).isInstanceOf(RawPgClient.ServerError.class);
            client.readUntil('Z');
            assertBindExecuteRefused(client, "");
        }
    }

    @Test
    void aCloseThenParseInAFailedBatchDoesNotReplaceTheStatementTheDatabaseKeeps() throws Exception {
        try (RawPgClient client = rawSessionOnRo()) {
            parse(client, "s1", "SELECT count(*) FROM items");
            client.send('S', new byte[0]);
            client.readUntil('Z');
            client.query("SET search_path = hr");
            client.readUntil('Z');
            parse(client, "x", "SELECT * FROM hr.salaries"); // refused: the rest of the batch is skipped
            client.send('C', new byte[] {'S', 's', '1', 0});
            parse(client, "s1", "SELECT 1");
            client.send('S', new byte[0]);
            assertThatThrownBy(() -> client.readUntil('Z')).isInstanceOf(RawPgClient.ServerError.class);
            client.readUntil('Z');
            assertBindExecuteRefused(client, "s1");
        }
    }

    @Test
    void aStatementClosedAndParsedAgainInABatchWithoutErrorsReplacesTheFirst() throws Exception {
        try (RawPgClient client = rawSessionOnRo()) {
            parse(client, "s1", "SELECT count(*) FROM items");
            client.send('S', new byte[0]);
            client.readUntil('Z');
            client.query("SET search_path = hr");
            client.readUntil('Z');
            client.send('C', new byte[] {'S', 's', '1', 0});
            parse(client, "s1", "SELECT count(*) FROM ro.items");
            client.send('S', new byte[0]);
            client.readUntil('Z');
            bindExecuteSync(client);
            assertThat(client.readUntil('C').body()).startsWith("SELECT 1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            client.readUntil('Z');
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT most_common_vals::text FROM pg_catalog.pg_stats WHERE schemaname = 'hr'",
            "SELECT * FROM pg_catalog.pg_stats_ext",
            "SELECT * FROM pg_catalog.pg_stats_ext_exprs"
    })
    void columnStatisticsOfTablesThePolicyDoesNotAllowAreNotReadableThroughThePgStatsViews(String sql) throws Exception {
        // pg_stats shows the most common values of hr.notes ({topsecret}) to a role that may read hr.notes.
        try (Connection c = gateway.connect(java.util.Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
            assertRefused(s, sql);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT nextval('ro.seq')",
            "SELECT pg_catalog.nextval('\"ro\" . SEQ'::regclass)",
            "SELECT setval('hr.seq', 42)",
            "SELECT * FROM ro.items WHERE id < setval('ro.seq', 42)",
            "SELECT nextval(('ro.seq'::regclass)::oid)",
            "SELECT pg_sequence_last_value('hr.seq')",
            "SELECT currval('hr.seq')"
    })
    void sequencesNamedInAStringAreNeitherAdvancedNorSetNorReadOutsideThePolicy(String sql) throws Exception {
        String sequences = "SELECT (SELECT last_value || ':' || is_called FROM ro.seq) || ',' || "
                + "(SELECT last_value || ':' || is_called FROM hr.seq)";
        String before = pg.sql(TestPostgres.DATABASE, sequences);
        try (Connection c = gateway.connect(java.util.Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
            assertRefused(s, sql);
            try (ResultSet rs = s.executeQuery("SELECT currval('ro.seq') IS NULL FROM ro.items WHERE false")) {
                assertThat(rs.next()).as("reading a sequence the policy allows is fine").isFalse();
            }
        }
        assertThat(pg.sql(TestPostgres.DATABASE, sequences)).isEqualTo(before);
    }

    @Test
    void pgNotifyIsTheNotifyCommandAndARefusedNotifyCannotBeSentThroughIt() throws Exception {
        try (Connection c = gateway.connect(java.util.Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
            assertRefused(s, "SELECT pg_notify('ch', 'x')");
            assertRefused(s, "SELECT * FROM ro.items WHERE pg_catalog.pg_notify('ch', name) IS NULL");
        }
    }

    @Test
    void withPublicOnTheSearchPathAnUnqualifiedNameMustBeAllowedThereToo() throws Exception {
        try (Connection c = gateway.connect(java.util.Map.of("preferQueryMode", "simple")); Statement s = c.createStatement()) {
            s.execute("SET search_path = ro");
            PSQLException e = (PSQLException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> s.executeQuery("SELECT count(*) FROM items"));
            assertThat(e.getServerErrorMessage().getMessage()).endsWith("SELECT on public.items is not allowed");
            assertThat(e.getServerErrorMessage().getDetail()).contains("may resolve to a relation in any of the schemas");
            assertThat(s.executeQuery("SELECT count(*) FROM ro.items").next()).as("qualified, it is fine").isTrue();
        }
    }

    @Test
    void copyFromTheClientIsRefusedAndCopyToTheClientIsAllowed() throws Exception {
        String before = databaseState();
        try (Connection c = gateway.connect()) {
            CopyManager copy = new CopyManager(c.unwrap(BaseConnection.class));
            assertThatThrownBy(() -> copy.copyIn("COPY ro.items FROM STDIN (FORMAT csv)", new StringReader("9,nine\n")))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            java.io.StringWriter out = new java.io.StringWriter();
            copy.copyOut("COPY ro.items TO STDOUT (FORMAT csv)", out);
            assertThat(out.toString()).contains("1,one");
        }
        assertThat(databaseState()).isEqualTo(before);
    }

    @Test
    void psqlGetsTheRefusalAndGoesOn() throws Exception {
        java.nio.file.Path psql = ExternalCommand.find("psql");
        if (psql == null) {
            return;
        }
        String before = databaseState();
        ExternalCommand.Result r = ExternalCommand.run(List.of(psql.toString(), "-X", "-v", "ON_ERROR_STOP=0",
                "host=127.0.0.1 port=" + gateway.port() + " dbname=" + TestPostgres.DATABASE + " user=" + TestGateway.AGENT,
                "-c", "DELETE FROM ro.items", "-c", "SELECT count(*) FROM ro.items"),
                java.util.Map.of("PGPASSWORD", TestGateway.AGENT_KEY), null, 60);
        assertThat(r.output()).contains("ERROR:  permission denied by pgwarden policy \"testers\": DELETE on ro.items is not allowed")
                .contains("HINT:").contains(" 2");
        assertThat(databaseState()).isEqualTo(before);
    }
}
