package io.pgwarden.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Whatever a client sends, statement analysis ends in an analysis or in one of its own
 * refusals ({@link SqlSyntaxException}, {@link UnanalyzableStatementException}) with a
 * message fit for the client: any other exception, a crash of the JVM (libpg_query runs in
 * process) or a hang is a bug. {@code mvn test} replays the stored inputs under
 * src/test/resources/io/pgwarden/analysis/StatementAnalyzerFuzzTestInputs; {@code
 * JAZZER_FUZZ=1} explores new ones (see the README's fuzzing command).
 */
class StatementAnalyzerFuzzTest {
    private static final StatementAnalyzer ANALYZER;

    static {
        try {
            ANALYZER = StatementAnalyzer.create();
        } catch (ParserUnavailableException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Pieces of SQL that reach deep into the walker when strung together. */
    private static final List<String> FRAGMENTS = List.of(
            "SELECT ", "INSERT INTO t ", "UPDATE t SET a = ", "DELETE FROM t ", "MERGE INTO t USING s ON true ",
            "WITH c AS (", "WITH RECURSIVE c(n) AS (", ") ", "(", ")", "[", "]", ", ", "; ", "* ", "a ", "t.a ", "s.t ",
            "\"Q\".\"T\" ", "FROM ", "t ", "c ", "WHERE ", "GROUP BY ", "HAVING ", "ORDER BY ", "LIMIT ", "OFFSET ",
            "UNION ALL ", "EXCEPT ", "JOIN ", "LEFT JOIN ", "LATERAL ", "ON ", "USING ", "AS ", "VALUES ", "RETURNING ",
            "EXISTS ", "IN ", "NOT ", "AND ", "OR ", "IS NULL ", "BETWEEN 1 AND 2 ", "CASE WHEN ", "THEN ", "ELSE ",
            "END ", "f(", "pg_catalog.g(", "count(*) ", "OVER (PARTITION BY a) ", "FILTER (WHERE ", "::int ", "+ ",
            "- ", "|| ", "= ", "1 ", "'x' ", "$1 ", "$$d$$ ", "E'\\'' ", "U&\"\\0041\" ", "/* /* */ */ ", "-- c\n",
            "ARRAY[", "ROW(", "COALESCE(", "DEFAULT ", "FOR UPDATE ", "INTO ", "ON CONFLICT DO UPDATE SET a = 1 ",
            "WHEN MATCHED THEN DELETE ", "WHEN NOT MATCHED THEN INSERT VALUES (1) ", "CREATE TABLE x (a int ",
            "CHECK (", "REFERENCES o ", "DEFAULT f() ", "ALTER TABLE t ", "ADD COLUMN b int ", "DROP TABLE ",
            "CREATE INDEX ON t (", "CREATE VIEW v AS ", "EXPLAIN ", "EXPLAIN ANALYZE ", "PREPARE p AS ", "EXECUTE p(",
            "DECLARE c CURSOR FOR ", "COPY t TO STDOUT ", "COPY (", ") TO STDOUT ", "COPY t FROM PROGRAM 'x' ",
            "SET ", "SET LOCAL ", "RESET ", "ROLE ", "search_path ", "TO ", "SHOW ", "BEGIN ", "COMMIT ", "DO $$x$$ ",
            "CALL p(", "GRANT SELECT ON t TO r ", "LOCK t ", "TRUNCATE t ", "VACUUM ", "ANALYZE ", "DISCARD ALL ",
            "CREATE FUNCTION f() RETURNS int RETURN ", "BEGIN ATOMIC ", "NOTIFY c ", "XMLSERIALIZE(CONTENT ", "é ");

    @FuzzTest(maxDuration = "30s")
    void anyTextIsAnalysedOrRefused(byte[] input) {
        if (input == null) {
            return; // Jazzer's empty regression input
        }
        check(new String(input, StandardCharsets.UTF_8));
    }

    @FuzzTest(maxDuration = "30s")
    void sqlFragmentsAreAnalysedOrRefused(FuzzedDataProvider data) {
        StringBuilder sql = new StringBuilder();
        int pieces = data.consumeInt(0, 40);
        for (int i = 0; i < pieces && data.remainingBytes() > 0; i++) {
            sql.append(data.pickValue(FRAGMENTS));
        }
        check(sql.toString());
    }

    /**
     * The walker on trees libpg_query would never produce: random shapes built from real node
     * type and field names. Only a result or an UnanalyzableStatementException may come out.
     */
    @FuzzTest(maxDuration = "30s")
    void anyTreeIsWalkedOrRefused(FuzzedDataProvider data) {
        JsonNode tree = node(data, 0);
        try {
            StatementAnalysis analysis = StatementWalker.analyse(tree);
            assertThat(analysis.commands()).contains(analysis.command());
        } catch (UnanalyzableStatementException e) {
            assertClientSafe(e);
        }
    }

    private static final List<String> NODE_TYPES = List.of("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt",
            "MergeStmt", "CreateStmt", "DropStmt", "CopyStmt", "ExplainStmt", "VariableSetStmt", "RangeVar", "ResTarget",
            "ColumnRef", "A_Const", "A_Expr", "FuncCall", "SubLink", "BoolExpr", "List", "String", "Integer", "TypeCast",
            "TypeName", "CommonTableExpr", "WithClause", "JoinExpr", "RangeSubselect", "RangeFunction", "DefElem",
            "Constraint", "ColumnDef", "XmlSerialize", "Unknown");
    private static final List<String> FIELDS = List.of("targetList", "fromClause", "whereClause", "relation", "relname",
            "schemaname", "val", "fields", "sval", "ival", "name", "args", "funcname", "subselect", "larg", "rarg", "op",
            "withClause", "ctes", "ctequery", "ctename", "items", "arg", "typeName", "names", "query", "options", "kind",
            "objects", "removeType", "selectStmt", "cols", "tableElts", "constraints", "raw_expr", "alias", "location");

    private static JsonNode node(FuzzedDataProvider data, int depth) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        int kind = depth > 12 ? data.consumeInt(0, 3) : data.consumeInt(0, 6);
        switch (kind) {
            case 0 -> {
                return f.textNode(data.pickValue(List.of("SETOP_NONE", "SETOP_UNION", "OBJECT_TABLE", "t", "", "VAR_SET_VALUE")));
            }
            case 1 -> {
                return f.numberNode(data.consumeLong());
            }
            case 2 -> {
                return f.booleanNode(data.consumeBoolean());
            }
            case 3 -> {
                return f.objectNode();
            }
            case 4 -> {
                ArrayNode array = f.arrayNode();
                int n = data.consumeInt(0, 3);
                for (int i = 0; i < n; i++) {
                    array.add(node(data, depth + 1));
                }
                return array;
            }
            case 5 -> {
                ObjectNode wrapper = f.objectNode();
                wrapper.set(data.pickValue(NODE_TYPES), node(data, depth + 1));
                return wrapper;
            }
            default -> {
                ObjectNode body = f.objectNode();
                int n = data.consumeInt(0, 4);
                for (int i = 0; i < n; i++) {
                    body.set(data.pickValue(FIELDS), node(data, depth + 1));
                }
                return body;
            }
        }
    }

    private static void check(String sql) {
        try {
            List<AnalyzedStatement> statements = ANALYZER.analyze(sql);
            byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
            for (AnalyzedStatement s : statements) {
                assertThat(s.byteOffset()).isBetween(0, utf8.length);
                assertThat(s.byteOffset() + s.byteLength()).isBetween(s.byteOffset(), utf8.length);
                assertThat(s.analysis().commands()).contains(s.analysis().command());
                assertThat(s.analysis().relations()).allSatisfy(r -> assertThat(r.name()).isNotEmpty());
            }
        } catch (SqlSyntaxException e) {
            // PostgreSQL's own message, which quotes the text near the error (newlines and all).
            assertThat(e.getMessage()).isNotBlank();
            assertThat(e.sqlState()).isEqualTo("42601");
            assertThat(e.position()).isBetween(0, sql.length() + 1);
        } catch (UnanalyzableStatementException e) {
            assertClientSafe(e);
        } catch (AnalysisException e) {
            throw new AssertionError("an AnalysisException that is neither kind: " + e, e);
        }
    }

    private static void assertClientSafe(UnanalyzableStatementException e) {
        assertThat(e.getMessage()).startsWith("statement could not be analysed: ")
                .doesNotContain("java.", "io.pgwarden", "Exception", "\n");
        assertThat(e.sqlState()).isEqualTo("42501");
    }
}
