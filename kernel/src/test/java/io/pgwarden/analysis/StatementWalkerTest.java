package io.pgwarden.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * The walker on hand-made trees: what a newer libpg_query (or a bug) could produce must be
 * refused, never skipped.
 */
class StatementWalkerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static StatementAnalysis walk(String json) throws Exception {
        return StatementWalker.analyse(JSON.readTree(json));
    }

    private static String refusal(String json) {
        try {
            walk(json);
        } catch (UnanalyzableStatementException e) {
            return e.getMessage();
        } catch (Exception e) {
            throw new AssertionError("expected a refusal, got " + e, e);
        }
        throw new AssertionError("expected a refusal: " + json);
    }

    @Test
    void aKnownTreeIsAnalysed() throws Exception {
        StatementAnalysis a = walk("""
                {"SelectStmt":{"targetList":[{"ResTarget":{"val":{"ColumnRef":{"fields":[{"A_Star":{}}]}}}}],
                 "fromClause":[{"RangeVar":{"schemaname":"s","relname":"t","inh":true,"relpersistence":"p"}}],
                 "limitOption":"LIMIT_OPTION_DEFAULT","op":"SETOP_NONE"}}""");
        assertThat(a.relations()).containsExactly(new RelationRef("s", "t", Access.READ));
    }

    @Test
    void anUnknownNodeTypeAnywhereIsRefused() {
        assertThat(refusal("""
                {"SelectStmt":{"targetList":[{"ResTarget":{"val":{"JsonTable":{"expr":{}}}}}],"op":"SETOP_NONE"}}"""))
                .isEqualTo("statement could not be analysed: unsupported construct JsonTable");
        assertThat(refusal("{\"MergeIntoEverythingStmt\":{}}"))
                .isEqualTo("statement could not be analysed: unsupported construct MergeIntoEverythingStmt");
        // Inside a subtree that may only hold names and constants (a DROP's object list):
        assertThat(refusal("""
                {"DropStmt":{"objects":[{"List":{"items":[{"FuncCall":{"funcname":[{"String":{"sval":"f"}}]}}]}}],
                 "removeType":"OBJECT_TYPE"}}"""))
                .isEqualTo("statement could not be analysed: unsupported construct FuncCall");
    }

    @Test
    void anUnknownFieldOfAKnownNodeIsRefused() {
        assertThat(refusal("""
                {"SelectStmt":{"targetList":[{"ResTarget":{"val":{"A_Const":{"ival":{"ival":1}}}}}],
                 "op":"SETOP_NONE","qualifyClause":{"A_Const":{"ival":{"ival":1}}}}}"""))
                .isEqualTo("statement could not be analysed: unsupported construct SelectStmt.qualifyClause");
        assertThat(refusal("""
                {"DeleteStmt":{"relation":{"relname":"t","inh":true,"relpersistence":"p","sample":{"x":1}}}}"""))
                .isEqualTo("statement could not be analysed: unsupported construct RangeVar.sample");
    }

    @Test
    void aFieldOfTheWrongShapeIsRefused() {
        assertThat(refusal("{\"SelectStmt\":{\"targetList\":{\"ResTarget\":{}},\"op\":\"SETOP_NONE\"}}"))
                .contains("SelectStmt.targetList");
        assertThat(refusal("{\"SelectStmt\":{\"op\":\"SETOP_NONE\",\"limitOption\":{\"A_Const\":{}}}}"))
                .contains("SelectStmt.limitOption");
        assertThat(refusal("{\"SelectStmt\":{\"fromClause\":[{\"RangeVar\":{\"relname\":\"t\"},\"extra\":1}],\"op\":\"SETOP_NONE\"}}"))
                .contains("SelectStmt.fromClause");
        assertThat(refusal("{\"SelectStmt\":{\"op\":\"SETOP_SOMETHING\"}}")).contains("SETOP_SOMETHING");
    }

    @Test
    void aTreeDeeperThanTheLimitIsRefused() {
        JsonNode deep = JSON.createObjectNode().set("A_Const", JSON.createObjectNode());
        for (int i = 0; i < StatementWalker.MAX_DEPTH + 10; i++) {
            var expr = JSON.createObjectNode();
            expr.putObject("BoolExpr").put("boolop", "NOT_EXPR").putArray("args").add(deep);
            deep = expr;
        }
        var select = JSON.createObjectNode();
        select.putObject("SelectStmt").put("op", "SETOP_NONE").set("whereClause", deep);
        assertThatThrownBy(() -> StatementWalker.analyse(select))
                .isInstanceOf(UnanalyzableStatementException.class)
                .hasMessageContaining("nested too deeply");
    }
}
