package io.pgwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.analysis.StatementAnalyzer;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.GatewayConfig.Policy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Policy decisions on real parses, without a network: the rules that the gateway test does not walk. */
class PolicyGateTest {
    private static StatementAnalyzer analyzer;

    @BeforeAll
    static void load() throws Exception {
        analyzer = StatementAnalyzer.create();
    }

    private static PolicyGate gate(String policyYaml, List<String> searchPath) throws Exception {
        String yaml = """
                upstreams: [ { name: app, credential: { user: gw, password: x } } ]
                authenticators: [ { type: static-keys, keys: [] } ]
                policies:
                """ + policyYaml.indent(2);
        Policy policy = ConfigLoader.parse(yaml, "test.yaml", Path.of(".")).config().policies().getFirst();
        return new PolicyGate(new CompiledPolicy(policy), new ApprovalRules(0, policy.approve()), analyzer, new SearchPathTracker(searchPath, "gw"));
    }

    private static final String READER = """
            - name: reader
              match: { groups: [g] }
              upstream: app
              allow: { commands: [SELECT], relations: ["public.*"] }
            """;

    private static Verdict.Refused refused(Verdict v) {
        assertThat(v).isInstanceOf(Verdict.Refused.class);
        return (Verdict.Refused) v;
    }

    @Test
    void textThatDoesNotParseIsRefusedWithPostgresqlsOwnSyntaxError() throws Exception {
        Verdict.Refused r = refused(gate(READER, List.of("public")).query("SELEC 1"));
        assertThat(r.sqlState()).isEqualTo("42601");
        assertThat(r.message()).contains("syntax error at or near \"SELEC\"");
    }

    @Test
    void builtInDeniesAreLiftedOnlyByNamingThem() throws Exception {
        String lifted = """
                - name: ops
                  match: { groups: [g] }
                  upstream: app
                  allow: { commands: [ALL, DO], functions: [pg_read_file] }
                """;
        PolicyGate all = gate(READER.replace("[SELECT]", "[ALL]"), List.of("public"));
        assertThat(refused(all.query("SELECT pg_read_file('x')")).message()).contains("built-in deny list");
        assertThat(refused(all.query("DO $$ BEGIN END $$")).hint()).isEqualTo("A policy lifts it only by naming DO in allow.commands.");
        PolicyGate ops = gate(lifted, List.of("public"));
        assertThat(ops.query("SELECT pg_catalog.pg_read_file('x')")).isInstanceOf(Verdict.Allowed.class);
        assertThat(ops.query("DO $$ BEGIN END $$")).isInstanceOf(Verdict.Allowed.class);
        assertThat(refused(ops.query("SELECT pg_ls_dir('.')")).message()).contains("pg_ls_dir");
    }

    @Test
    void returningToTheSessionsOwnRoleIsAllowedSwitchingToAnotherIsNot() throws Exception {
        PolicyGate g = gate(READER, List.of("public"));
        assertThat(g.query("RESET ROLE")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.query("DISCARD ALL")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.query("RESET SESSION AUTHORIZATION")).isInstanceOf(Verdict.Allowed.class);
        assertThat(refused(g.query("SET ROLE admin")).message()).contains("ROLE_SWITCH");
        assertThat(refused(g.query("SET LOCAL ROLE admin")).message()).contains("ROLE_SWITCH");
    }

    @Test
    void denyCommandsRefusesEvenSessionCommands() throws Exception {
        PolicyGate g = gate(READER.replace("allow:", "deny: { commands: [LISTEN] }\n  allow:"), List.of("public"));
        assertThat(refused(g.query("LISTEN jobs")).hint()).contains("deny.commands");
        assertThat(g.query("BEGIN")).isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void aSearchPathChangedBySetConfigMakesEveryUnqualifiedNameAnySchema() throws Exception {
        String lifted = """
                - name: r
                  match: { groups: [g] }
                  upstream: app
                  allow: { commands: [SELECT], relations: ["public.*"], functions: [set_config] }
                """;
        PolicyGate g = gate(lifted, List.of("public"));
        assertThat(g.query("SELECT * FROM t")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.query("SELECT set_config('search_path', 'hr', false)")).isInstanceOf(Verdict.Allowed.class);
        Verdict.Refused r = refused(g.query("SELECT * FROM t"));
        assertThat(r.detail()).contains("cannot follow");
        assertThat(g.query("SELECT * FROM public.t")).isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void aWholeQueryStringIsRefusedWhenOneOfItsStatementsIs() throws Exception {
        Verdict.Refused r = refused(gate(READER, List.of("public")).query("SELECT 1; DELETE FROM t; SELECT 2"));
        assertThat(r.detail()).contains("holds 3 statements; none of them was run");
        assertThat(r.summary().commands()).containsExactly("SELECT", "DELETE");
    }

    @Test
    void aLaterStatementOfAStringRunsUnderTheSearchPathAnEarlierOneSet() throws Exception {
        PolicyGate g = gate(READER, List.of("public"));
        Verdict.Refused r = refused(g.query("SET search_path = hr; SELECT * FROM salaries"));
        assertThat(r.message()).contains("hr.salaries");
    }

    @Test
    void executeOfAnUnknownOrRefusedPreparedStatementIsRefused() throws Exception {
        PolicyGate g = gate(READER, List.of("public"));
        assertThat(refused(g.query("EXECUTE nothing")).sqlState()).isEqualTo("26000");
        assertThat(g.query("PREPARE p AS SELECT * FROM public.t")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.query("EXECUTE p")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.query("EXPLAIN EXECUTE p")).isInstanceOf(Verdict.Allowed.class);
        refused(g.query("PREPARE q AS DELETE FROM public.t"));
        assertThat(refused(g.query("EXECUTE q")).sqlState()).isEqualTo("26000");
    }

    @Test
    void statementsOverRelationsTheyDoNotNameAreRefusedUnlessEveryRelationIsAllowed() throws Exception {
        String maintainer = """
                - name: m
                  match: { groups: [g] }
                  upstream: app
                  allow: { commands: [VACUUM], relations: ["public.*"] }
                """;
        assertThat(refused(gate(maintainer, List.of("public")).query("VACUUM")).message()).contains("does not name");
        assertThat(gate(maintainer, List.of("public")).query("VACUUM public.t")).isInstanceOf(Verdict.Allowed.class);
        assertThat(gate(maintainer.replace("[\"public.*\"]", "[\"*\"]"), List.of("public")).query("VACUUM"))
                .isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void catalogsAreReadableUnlessDeniedButTheirSecretsAreNot() throws Exception {
        PolicyGate g = gate(READER, List.of("public"));
        assertThat(g.query("SELECT * FROM pg_catalog.pg_class")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.query("SELECT * FROM information_schema.tables")).isInstanceOf(Verdict.Allowed.class);
        assertThat(refused(g.query("SELECT rolpassword FROM pg_authid")).message()).contains("built-in deny list");
        PolicyGate named = gate(READER.replace("[\"public.*\"]", "[\"public.*\", pg_catalog.pg_authid]"), List.of("public"));
        assertThat(named.query("SELECT rolpassword FROM pg_catalog.pg_authid")).isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void updatingPgSettingsWhichCallsSetConfigIsOnTheBuiltInDenyList() throws Exception {
        // pg_settings' UPDATE rule runs set_config(name, setting): SET ROLE and SET search_path out of sight.
        PolicyGate writer = gate(READER.replace("[SELECT]", "[SELECT, UPDATE]").replace("\"public.*\"", "\"*\""), List.of("public"));
        assertThat(refused(writer.query("UPDATE pg_settings SET setting = 'postgres' WHERE name = 'role'")).message())
                .contains("built-in deny list");
        assertThat(refused(writer.query("UPDATE pg_catalog.pg_settings SET setting = 'hr' WHERE name = 'search_path'")).message())
                .contains("built-in deny list");
        assertThat(writer.query("SELECT setting FROM pg_settings WHERE name = 'role'")).isInstanceOf(Verdict.Allowed.class);
        PolicyGate named = gate(READER.replace("[SELECT]", "[SELECT, UPDATE]")
                .replace("[\"public.*\"]", "[\"public.*\", pg_catalog.pg_settings]"), List.of("public"));
        assertThat(named.query("UPDATE pg_catalog.pg_settings SET setting = '1MB' WHERE name = 'work_mem'"))
                .isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void aSearchPathThatGrowsChangesTheGenerationAndTheDecision() throws Exception {
        PolicyGate g = gate(READER.replace("public.*", "ro.*"), List.of("ro"));
        assertThat(g.parse("s1", "SELECT count(*) FROM items")).isInstanceOf(Verdict.Allowed.class);
        long before = g.generation();
        assertThat(g.query("SET search_path = hr")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.generation()).isNotEqualTo(before);
        assertThat(refused(g.parse("s1", "SELECT count(*) FROM items")).message()).contains("hr.items is not allowed");
        long after = g.generation();
        assertThat(g.query("SET search_path = ro")).isInstanceOf(Verdict.Allowed.class);
        assertThat(g.generation()).as("nothing new on the path").isEqualTo(after);
    }

    @Test
    void rowLocksNeedUpdateAndOtherSessionsStatementsAreNotReadable() throws Exception {
        PolicyGate g = gate(READER, List.of("public"));
        assertThat(refused(g.query("SELECT * FROM public.t FOR UPDATE")).hint()).contains("Row locks need UPDATE");
        assertThat(refused(g.query("DECLARE c CURSOR FOR SELECT * FROM public.t FOR SHARE")).hint()).contains("Row locks");
        assertThat(gate(READER.replace("[SELECT]", "[SELECT, UPDATE]"), List.of("public"))
                .query("SELECT * FROM public.t FOR UPDATE")).isInstanceOf(Verdict.Allowed.class);
        assertThat(refused(g.query("SELECT query FROM pg_stat_activity")).message()).contains("built-in deny list");
        assertThat(refused(g.query("SELECT pg_stat_get_backend_activity(1)")).message()).contains("built-in deny list");
        assertThat(refused(g.query("SELECT pg_stat_reset()")).message()).contains("built-in deny list");
    }

    @Test
    void aClientEncodingOtherThanUtf8IsRefusedBeforeItReachesTheServer() throws Exception {
        PolicyGate g = gate(READER, List.of("public"));
        assertThat(refused(g.query("SET client_encoding = 'SJIS'")).sqlState()).isEqualTo("0A000");
        assertThat(refused(g.query("SET NAMES 'BIG5'")).sqlState()).isEqualTo("0A000");
        assertThat(g.query("SET client_encoding = 'UTF8'")).isInstanceOf(Verdict.Allowed.class);
    }

    private static final String APPROVING = """
            - name: approving
              match: { groups: [g] }
              upstream: app
              approve:
                - { when: { commands: [DELETE, UPDATE], without_where: true }, approvers: [web] }
                - { when: { relations: [hr.salaries] }, approvers: [web], timeout: 1h }
                - { when: { functions: [md5] }, approvers: [web] }
                - { when: { ddl: true }, approvers: [web], mode: ticket }
                - { when: { commands: [UPDATE], estimated_rows_over: 1000 }, approvers: [web] }
            """;

    private static List<String> heldBy(Verdict v) {
        return v instanceof Verdict.Held h ? h.rules().stream().map(ApprovalMatch::rule).toList() : List.of();
    }

    @Test
    void approvalRulesHoldWhatTheyNameAndNothingElse() throws Exception {
        PolicyGate g = gate(APPROVING.replace("approvers: [web]", "approvers: [web]"), List.of("public", "hr"));
        assertThat(heldBy(g.query("DELETE FROM t"))).containsExactly("policies[0].approve[0]");
        assertThat(heldBy(g.query("DELETE FROM t WHERE id = 1"))).isEmpty();
        assertThat(heldBy(g.query("WITH d AS (UPDATE t SET x = 1 RETURNING *) SELECT * FROM d")))
                .containsExactly("policies[0].approve[0]", "policies[0].approve[4]");
        Verdict.Held h = (Verdict.Held) g.query("UPDATE t SET x = 1");
        assertThat(h.rules().get(0).why()).isEqualTo("UPDATE without WHERE on t");
        assertThat(h.rules().get(1).needsEstimate()).isTrue();
        assertThat(h.rules().get(1).toEstimate()).containsExactly("UPDATE t SET x = 1");
        // Unqualified names are held when they may resolve to the named table.
        assertThat(heldBy(g.query("SELECT * FROM salaries"))).containsExactly("policies[0].approve[1]");
        assertThat(heldBy(g.query("SELECT * FROM public.salaries"))).isEmpty();
        assertThat(heldBy(g.query("SELECT md5('x')"))).containsExactly("policies[0].approve[2]");
        assertThat(heldBy(g.query("DROP TABLE t"))).containsExactly("policies[0].approve[3]");
        // A multi-statement string is held whole when any of its statements is.
        assertThat(heldBy(g.query("SELECT 1; DELETE FROM t"))).containsExactly("policies[0].approve[0]");
    }

    @Test
    void preparingRunsNothingButExecutingWhatWasPreparedIsHeld() throws Exception {
        PolicyGate g = gate(APPROVING, List.of("public"));
        assertThat(g.query("PREPARE wipe AS DELETE FROM t")).isInstanceOf(Verdict.Allowed.class);
        assertThat(heldBy(g.query("EXECUTE wipe"))).containsExactly("policies[0].approve[0]");
        assertThat(heldBy(g.executePrepared("wipe"))).containsExactly("policies[0].approve[0]");
        assertThat(heldBy(g.parse("s1", "DELETE FROM t"))).containsExactly("policies[0].approve[0]");
    }

    @Test
    void aRefusalWinsOverAHold() throws Exception {
        PolicyGate g = gate(APPROVING + "  deny: { commands: [DELETE] }\n", List.of("public"));
        assertThat(refused(g.query("DELETE FROM t")).message()).contains("DELETE on t is denied");
    }
}
