package io.pgwarden.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;
import org.postgresql.util.PSQLException;

/**
 * Masking through a real gateway and PostgreSQL: a corpus of ways to carry a masked value
 * out (aliases, expressions, whole rows, JSON, CTEs, subqueries, LATERAL, set operations,
 * alias lists, views, functions, cursors, SQL-level PREPARE, errors, notices, COPY, writes
 * into other tables), each through pgjdbc's extended protocol, with binary transfer and
 * server-side prepared statements, and through the simple protocol: every answer is masked
 * or refused, and no protected value appears in any form (plain, upper or lower case,
 * reversed, hex, base64, digits only) in rows, errors or notices. The queries an analyst
 * runs on unmasked columns answer exactly.
 */
class MaskingThroughGatewayTest {
    static final String EMAIL_LOCAL = "alice.secret";
    static final String EMAIL = EMAIL_LOCAL + "@example.com";
    static final String SSN = "123-45-6789";
    static final String BOB_EMAIL = "bob.hidden@example.org";

    private static LocalPostgres pg;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        pg = TestPostgres.shared();
        pg.sql(TestPostgres.DATABASE, """
                DROP SCHEMA IF EXISTS mk CASCADE;
                CREATE SCHEMA mk;
                CREATE TABLE mk.customers (id int PRIMARY KEY, name text, email text, ssn text, score int);
                INSERT INTO mk.customers VALUES (1, 'Alice', '%s', '%s', 10), (2, 'Bob', '%s', '987-65-4321', 20);
                CREATE TABLE mk.orders (id int, customer_id int, total int);
                INSERT INTO mk.orders VALUES (1, 1, 100), (2, 1, 50), (3, 2, 7);
                CREATE VIEW mk.customer_view AS SELECT id, upper(email) AS shout, name FROM mk.customers;
                CREATE VIEW mk.view_of_view AS SELECT * FROM mk.customer_view;
                CREATE TABLE mk.sink (t text);
                CREATE FUNCTION mk.leak() RETURNS SETOF text LANGUAGE sql AS 'SELECT email FROM mk.customers';
                CREATE FUNCTION mk.noisy() RETURNS int LANGUAGE plpgsql AS
                  $f$ BEGIN RAISE NOTICE '%%', (SELECT email FROM mk.customers WHERE id = 1); RETURN 1; END $f$;
                CREATE FUNCTION mk.shout(t text) RETURNS text LANGUAGE sql AS 'SELECT upper(t)';
                CREATE TABLE mk.parted (id int, email text) PARTITION BY RANGE (id);
                CREATE TABLE mk.parted_1 PARTITION OF mk.parted FOR VALUES FROM (0) TO (100);
                INSERT INTO mk.parted VALUES (1, '%s');
                """.formatted(EMAIL, SSN, BOB_EMAIL, EMAIL));
        String yaml = TestGateway.yamlWithPolicy(pg, """
                    allow: { commands: [ALL, DO], functions: [set_config] }
                    mask:
                      - { column: mk.customers.email, masker: email }
                      - { column: mk.customers.ssn, masker: redact }
                      - { column: mk.parted.email, masker: redact }
                """);
        assertThat(yaml).contains("mk.customers.email");
        gateway = TestGateway.start(yaml, pg.password());
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    /** Every form in which a protected value must never appear. */
    static List<String> forbidden() {
        List<String> forms = new ArrayList<>();
        for (String secret : List.of(EMAIL_LOCAL, EMAIL, SSN, "123456789", "bob.hidden", BOB_EMAIL, "987-65-4321", "987654321")) {
            forms.add(secret.toLowerCase(Locale.ROOT));
            forms.add(new StringBuilder(secret).reverse().toString().toLowerCase(Locale.ROOT));
            forms.add(HexFormat.of().formatHex(secret.getBytes(StandardCharsets.UTF_8)));
            forms.add(Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8)).replace("=", "").toLowerCase(Locale.ROOT));
        }
        return forms;
    }

    /** Everything the client saw of a statement: values, notices, error texts, lower case. */
    static String run(Connection c, String sql) {
        StringBuilder seen = new StringBuilder();
        try (Statement s = c.createStatement()) {
            boolean rows = s.execute(sql);
            while (true) {
                if (rows) {
                    try (ResultSet rs = s.getResultSet()) {
                        int n = rs.getMetaData().getColumnCount();
                        while (rs.next()) {
                            for (int i = 1; i <= n; i++) {
                                seen.append(rs.getString(i)).append('|');
                            }
                            seen.append('\n');
                        }
                    }
                } else if (s.getUpdateCount() == -1) {
                    break;
                }
                rows = s.getMoreResults();
            }
            for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                seen.append("notice: ").append(w.getMessage()).append('\n');
            }
        } catch (PSQLException e) {
            seen.append("error ").append(e.getSQLState()).append(": ").append(e.getMessage());
            if (e.getServerErrorMessage() != null) {
                seen.append(" / ").append(e.getServerErrorMessage().getDetail()).append(" / ")
                        .append(e.getServerErrorMessage().getWhere()).append(" / ").append(e.getServerErrorMessage().getHint());
            }
        } catch (SQLException e) {
            seen.append("error ").append(e.getSQLState()).append(": ").append(e.getMessage());
        } catch (RuntimeException | AssertionError e) {
            seen.append("client error: ").append(e.getMessage());
        }
        return seen.toString().toLowerCase(Locale.ROOT);
    }

    static void assertNothingLeaks(String sql, String seen) {
        for (String form : forbidden()) {
            assertThat(seen).as("%s showed a protected value (%s): %s", sql, form, seen).doesNotContain(form);
        }
    }

    static Stream<String> bypasses() {
        return Stream.of(
                "SELECT * FROM mk.customers",
                "TABLE mk.customers",
                "SELECT email, ssn FROM mk.customers",
                "SELECT c.email AS x, c.ssn AS y FROM mk.customers c",
                "SELECT mk.customers.email FROM mk.customers",
                "SELECT \"email\" FROM mk.\"customers\"",
                "SELECT email FROM ONLY mk.customers",
                "SELECT upper(email), reverse(ssn), lower(email) FROM mk.customers",
                "SELECT email || '' AS e, '' || ssn FROM mk.customers",
                "SELECT c FROM mk.customers c",
                "SELECT mk.customers FROM mk.customers",
                "SELECT row_to_json(c) FROM mk.customers c",
                "SELECT to_jsonb(c.*) FROM mk.customers c",
                "SELECT json_agg(c) FROM mk.customers c",
                "SELECT c::text FROM mk.customers c",
                "SELECT (c).email FROM mk.customers c",
                "SELECT ROW(email, ssn) FROM mk.customers",
                "SELECT ARRAY[email] FROM mk.customers",
                "SELECT array_agg(email) FROM mk.customers",
                "SELECT string_agg(email, ',') FROM mk.customers",
                "SELECT max(ssn), min(email) FROM mk.customers",
                "SELECT jsonb_build_object('e', email) FROM mk.customers",
                "SELECT format('%s', email) FROM mk.customers",
                "SELECT coalesce(email, 'x') FROM mk.customers",
                "SELECT CASE WHEN id > 0 THEN email END FROM mk.customers",
                "SELECT encode(convert_to(email, 'UTF8'), 'hex') FROM mk.customers",
                "SELECT encode(convert_to(email, 'UTF8'), 'base64') FROM mk.customers",
                "SELECT regexp_replace(ssn, '\\D', '', 'g') FROM mk.customers",
                "SELECT left(ssn, 20), substr(email, 1, 12) FROM mk.customers",
                "WITH x AS (SELECT email AS e FROM mk.customers) SELECT e FROM x",
                "WITH x(a, b) AS (SELECT id, email FROM mk.customers) SELECT b FROM x",
                "SELECT e FROM (SELECT email AS e FROM mk.customers) s",
                "SELECT s.* FROM (SELECT upper(email) FROM mk.customers) s",
                "SELECT * FROM (SELECT email FROM mk.customers) s",
                "SELECT * FROM (SELECT id, lower(email) AS l FROM mk.customers) s",
                "SELECT t FROM (SELECT * FROM mk.customers) t",
                "SELECT a, b, c, d FROM mk.customers AS t(a, b, c, d)",
                "SELECT x FROM mk.customers, LATERAL (SELECT email AS x) l",
                "SELECT email FROM mk.customers UNION SELECT 'x'",
                "SELECT 'x' UNION ALL SELECT ssn FROM mk.customers",
                "SELECT (SELECT email FROM mk.customers WHERE id = 1)",
                "SELECT id, (SELECT max(email) FROM mk.customers) FROM mk.orders",
                "SELECT * FROM mk.customer_view",
                "SELECT lower(shout) FROM mk.customer_view",
                "SELECT * FROM mk.view_of_view",
                "SELECT * FROM mk.parted",
                "SELECT * FROM mk.parted_1",
                "SELECT * FROM mk.leak()",
                "SELECT mk.leak()",
                "SELECT mk.shout(email) FROM mk.customers",
                "SELECT mk.noisy()",
                "SELECT ssn::int FROM mk.customers",
                "SELECT email::int FROM mk.customers",
                "SELECT email::date FROM mk.customers",
                "SELECT 1; SELECT email FROM mk.customers; SELECT 2",
                "SELECT * FROM mk.customers c JOIN mk.orders o ON o.customer_id = c.id",
                "EXPLAIN (ANALYZE, VERBOSE) SELECT email FROM mk.customers",
                "INSERT INTO mk.sink SELECT email FROM mk.customers",
                "INSERT INTO mk.sink VALUES ((SELECT email FROM mk.customers WHERE id = 1))",
                "CREATE TABLE mk.copied AS SELECT email FROM mk.customers",
                "SELECT email INTO mk.copied2 FROM mk.customers",
                "UPDATE mk.customers SET name = email",
                "UPDATE mk.customers SET name = name WHERE id = 1 RETURNING email, ssn",
                "MERGE INTO mk.sink s USING mk.customers c ON false WHEN NOT MATCHED THEN INSERT VALUES (c.email)",
                "DO $$ BEGIN RAISE NOTICE '%', (SELECT email FROM mk.customers WHERE id = 1); END $$",
                "SELECT pg_notify('ch', email) FROM mk.customers",
                "SELECT set_config('application_name', email, false) FROM mk.customers",
                "PREPARE p1 AS SELECT email, upper(ssn) FROM mk.customers; EXECUTE p1; DEALLOCATE p1",
                "BEGIN; DECLARE cur CURSOR FOR SELECT * FROM mk.customers; FETCH ALL FROM cur; CLOSE cur; COMMIT",
                "BEGIN; DECLARE cur2 CURSOR FOR SELECT lower(email) FROM mk.customers; FETCH 1 FROM cur2; COMMIT",
                "SET search_path = mk, public; SELECT email FROM customers; RESET search_path",
                "CREATE VIEW mk.v_leak AS SELECT email FROM mk.customers",
                "ALTER TABLE mk.customers ADD COLUMN e2 text GENERATED ALWAYS AS (email) STORED",
                "CREATE FUNCTION mk.f_leak() RETURNS text LANGUAGE sql AS 'SELECT email FROM mk.customers LIMIT 1'");
    }

    static Stream<Arguments> bypassesByClient() {
        List<Arguments> all = new ArrayList<>();
        for (String mode : List.of("extended", "simple", "prepared-binary")) {
            bypasses().forEach(sql -> all.add(Arguments.of(mode, sql)));
        }
        return all.stream();
    }

    private static java.util.Properties connectionProperties(String mode) {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", pg.superuser());
        p.setProperty("password", pg.password());
        if (mode.equals("prepared-binary")) {
            p.setProperty("prepareThreshold", "-1");
            p.setProperty("binaryTransfer", "true");
        }
        return p;
    }

    private static Connection connect(String mode) throws SQLException {
        return switch (mode) {
            case "simple" -> gateway.connect(Map.of("preferQueryMode", "simple"));
            case "prepared-binary" -> gateway.connect(Map.of("prepareThreshold", "-1", "binaryTransfer", "true"));
            default -> gateway.connect();
        };
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("bypassesByClient")
    void noStatementOfTheCorpusShowsAProtectedValue(String mode, String sql) throws Exception {
        try (Connection c = connect(mode)) {
            String seen = run(c, sql);
            assertNothingLeaks(sql, seen);
            if (seen.contains("client error")) {
                // pgjdbc cannot run some statements in some modes at all; then it must fail directly too.
                try (Connection direct = java.sql.DriverManager.getConnection(pg.jdbcUrl(TestPostgres.DATABASE),
                        connectionProperties(mode))) {
                    assertThat(run(direct, sql)).as("directly: " + sql).contains("client error");
                }
                return; // the driver's own state is broken then, directly as well
            }
            // The session stays usable afterwards.
            assertThat(run(c, "SELECT 41 + 1")).contains("42");
        }
        assertThat(pg.sql(TestPostgres.DATABASE, "SELECT count(*) FROM mk.sink").strip()).as("nothing was copied out").isEqualTo("0");
    }

    @Test
    void maskedColumnsCarryTheirMaskersResultAndUnmaskedOnesAnswerExactly() throws Exception {
        for (String mode : List.of("extended", "simple", "prepared-binary")) {
            try (Connection c = connect(mode)) {
                assertThat(run(c, "SELECT id, name, email, ssn, score FROM mk.customers ORDER BY id")).as(mode)
                        .isEqualTo("1|alice|***@example.com|[redacted]|10|\n2|bob|***@example.org|[redacted]|20|\n");
                assertThat(run(c, "SELECT count(*), count(email), count(DISTINCT ssn) FROM mk.customers")).as(mode)
                        .isEqualTo("2|2|2|\n");
                assertThat(run(c, "SELECT c.name, sum(o.total) FROM mk.customers c JOIN mk.orders o ON o.customer_id = c.id "
                        + "GROUP BY c.name ORDER BY 1")).as(mode).isEqualTo("alice|150|\nbob|7|\n");
                assertThat(run(c, "SELECT id, name FROM mk.customer_view ORDER BY id")).as(mode)
                        .as("a view that reads a masked column is masked as a whole").doesNotContain("alice");
                assertThat(run(c, "SELECT upper(name), id * 2 FROM mk.customers ORDER BY id")).as(mode)
                        .isEqualTo("alice|2|\nbob|4|\n");
            }
        }
    }

    @Test
    void preparedStatementsWithBinaryTransferAreMaskedOnEveryExecution() throws Exception {
        try (Connection c = gateway.connect(Map.of("prepareThreshold", "1", "binaryTransfer", "true"));
             PreparedStatement ps = c.prepareStatement("SELECT email, ssn, score, name FROM mk.customers WHERE id = ?")) {
            for (int i = 0; i < 5; i++) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("***@example.com");
                    assertThat(rs.getString(2)).isEqualTo("[redacted]");
                    assertThat(rs.getInt(3)).isEqualTo(10);
                    assertThat(rs.getString(4)).isEqualTo("Alice");
                }
            }
        }
    }

    @Test
    void aFetchSizeCursorIsMaskedInEveryBatch() throws Exception {
        try (Connection c = gateway.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT g, e FROM generate_series(1, 50) g, "
                    + "(SELECT email AS e FROM mk.customers WHERE id = 1) s")) {
                ps.setFetchSize(7);
                int rows = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        assertThat(rs.getString(2)).doesNotContain(EMAIL_LOCAL);
                    }
                }
                assertThat(rows).isEqualTo(50);
            }
            c.commit();
        }
    }

    @Test
    void copyToOfMaskedDataIsRefusedAndTheSessionStaysUsable() throws Exception {
        try (Connection c = gateway.connect()) {
            CopyManager copy = new CopyManager(c.unwrap(BaseConnection.class));
            for (String sql : List.of("COPY mk.customers TO STDOUT", "COPY (SELECT email FROM mk.customers) TO STDOUT (FORMAT csv)",
                    "COPY mk.customers TO STDOUT (FORMAT binary)")) {
                java.io.StringWriter out = new java.io.StringWriter();
                assertThatThrownBy(() -> copy.copyOut(sql, out)).as(sql).isInstanceOfSatisfying(PSQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("42501"));
                assertNothingLeaks(sql, out.toString().toLowerCase(Locale.ROOT));
            }
            java.io.StringWriter orders = new java.io.StringWriter();
            copy.copyOut("COPY mk.orders TO STDOUT", orders);
            assertThat(orders.toString()).contains("1\t1\t100");
        }
    }

    @Test
    void throughPsqlNothingLeaks() throws Exception {
        java.nio.file.Path psql = ExternalCommand.find("psql");
        org.junit.jupiter.api.Assumptions.assumeTrue(psql != null, "psql is not installed");
        for (String sql : List.of("SELECT * FROM mk.customers", "SELECT c FROM mk.customers c",
                "SELECT ssn::int FROM mk.customers", "SELECT mk.noisy()", "\\copy mk.customers TO STDOUT")) {
            var result = ExternalCommand.run(List.of(psql.toString(), "-X", "-c", sql), gateway.libpqEnvironment(), null, 30);
            assertNothingLeaks(sql, result.output().toLowerCase(Locale.ROOT));
            assertThat(result.output()).as(sql).isNotBlank();
        }
    }
}
