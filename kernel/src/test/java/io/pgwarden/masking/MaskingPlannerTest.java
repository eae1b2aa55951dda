package io.pgwarden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.analysis.StatementAnalyzer;
import io.pgwarden.config.GatewayConfig;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The masking decisions for statements, without a database: lineage joined with a catalog. */
class MaskingPlannerTest {
    private static StatementAnalyzer analyzer;
    private static MaskRules rules;
    /** customers (oid 100): email is attnum 3 (rule 0), ssn attnum 4 (rule 1); view 200 reads them. */
    private static final MaskingCatalog CATALOG = MaskingCatalog.fromRows(List.of(
            List.of("c", "100", "3", "0", "mk", "customers"),
            List.of("c", "100", "4", "1", "mk", "customers"),
            List.of("v", "200", "0", "-1", "mk", "customer_view"),
            List.of("f", "0", "0", "-1", "", "leak")));

    @BeforeAll
    static void setUp() throws Exception {
        analyzer = StatementAnalyzer.create();
        GatewayConfig.Policy policy = new GatewayConfig.Policy("p", null, "u", null, null, List.of(
                new GatewayConfig.MaskRule("mk.customers.email", null, "email"),
                new GatewayConfig.MaskRule("mk.customers.ssn", null, "redact")), null, null, null);
        rules = MaskRules.compile(policy, MaskerRegistry.builtIns());
    }

    private static MaskingPlanner planner() {
        MaskingPlanner p = new MaskingPlanner(rules, r -> r.schema() != null ? List.of(r.schema()) : List.of("pg_temp", "pg_catalog", "mk"),
                analyzer::lineage);
        p.catalog(CATALOG);
        return p;
    }

    private static MaskingPlanner.Decision decide(String sql) throws Exception {
        return planner().decide(analyzer.analyze(sql));
    }

    /** The action of each computed result column (table OID 0) named as given. */
    private static List<Boolean> masked(String sql, String... names) throws Exception {
        MaskingPlanner.Decision d = decide(sql);
        assertThat(d.refusal()).as(sql).isNull();
        if (!d.plan().inspects()) {
            return java.util.Arrays.stream(names).map(n -> false).toList();
        }
        ResultMask m = d.plan().statement(0);
        List<Boolean> out = new java.util.ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            out.add(m.column(i, names.length, 0, 0, names[i]) instanceof ResultMask.Mask);
        }
        return out;
    }

    @Test
    void countsAndUnrelatedExpressionsStayReadable() throws Exception {
        assertThat(masked("SELECT count(*), count(email), count(DISTINCT ssn) FROM mk.customers", "count", "count", "count"))
                .containsExactly(false, false, false);
        assertThat(masked("SELECT upper(name), id * 2 FROM mk.customers", "upper", "?column?")).containsExactly(false, false);
    }

    @Test
    void expressionsOverMaskedColumnsAreMasked() throws Exception {
        assertThat(masked("SELECT upper(email), name FROM mk.customers", "upper", "name")).containsExactly(true, false);
        assertThat(masked("SELECT c FROM mk.customers c", "c")).containsExactly(true);
        assertThat(masked("SELECT e FROM (SELECT email AS e FROM mk.customers) s", "e")).containsExactly(true);
        assertThat(masked("SELECT * FROM (SELECT id, lower(email) AS l FROM mk.customers) s", "id", "l")).containsExactly(false, true);
        assertThat(masked("WITH x(a, b) AS (SELECT id, email FROM mk.customers) SELECT b FROM x", "b")).containsExactly(true);
        assertThat(masked("SELECT email FROM mk.customers UNION SELECT 'x'", "email")).containsExactly(true);
        assertThat(masked("SELECT * FROM mk.leak()", "leak")).containsExactly(true);
        assertThat(masked("SELECT lower(shout) FROM mk.customer_view", "lower")).containsExactly(true);
    }

    @Test
    void directColumnsAreDecidedByTheirTableAndAttribute() throws Exception {
        ResultMask m = decide("SELECT * FROM mk.customers").plan().statement(0);
        assertThat(m.column(2, 5, 100, 3, "email")).isInstanceOf(ResultMask.Mask.class);
        assertThat(m.column(1, 5, 100, 2, "name")).isInstanceOf(ResultMask.Pass.class);
        assertThat(m.column(0, 1, 200, 1, "id")).as("a view that reads masked columns").isInstanceOf(ResultMask.Mask.class);
    }

    @Test
    void copyingMaskedValuesElsewhereIsRefused() throws Exception {
        assertThat(decide("INSERT INTO mk.sink SELECT email FROM mk.customers").refusal()).isNotNull();
        assertThat(decide("UPDATE mk.customers SET name = email").refusal()).isNotNull();
        assertThat(decide("CREATE TABLE x AS SELECT lower(ssn) FROM mk.customers").refusal()).isNotNull();
        assertThat(decide("UPDATE mk.customers SET name = 'x' WHERE id = 1").refusal()).isNull();
        assertThat(decide("COPY mk.customers TO STDOUT").refusal()).isNotNull();
        assertThat(decide("SELECT pg_notify('c', email) FROM mk.customers").refusal()).isNotNull();
        assertThat(decide("DO $$ BEGIN END $$").refusal()).isNotNull();
        assertThat(decide("CREATE VIEW v AS SELECT email FROM mk.customers").refusal()).isNotNull();
        assertThat(decide("ALTER TABLE mk.customers ADD COLUMN e2 text GENERATED ALWAYS AS (email) STORED").refusal()).isNotNull();
        assertThat(decide("ALTER TABLE mk.customers RENAME COLUMN email TO e2").refusal()).isNotNull();
        assertThat(decide("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS 'SELECT email FROM mk.customers'").refusal()).isNotNull();
        assertThat(decide("CREATE TEMP TABLE t AS SELECT id FROM mk.orders").refusal()).isNull();
    }

    @Test
    void predicatesOnMaskedColumnsAreRefusedOnlyWhenThePolicySaysSo() throws Exception {
        assertThat(decide("SELECT id FROM mk.customers WHERE ssn LIKE '1%'").refusal()).isNull();
        GatewayConfig.Policy strict = new GatewayConfig.Policy("p", null, "u", null, null, List.of(
                new GatewayConfig.MaskRule("mk.customers.ssn", null, "redact")), "deny", null, null);
        MaskingPlanner p = new MaskingPlanner(MaskRules.compile(strict, MaskerRegistry.builtIns()),
                r -> r.schema() != null ? List.of(r.schema()) : List.of("mk"), analyzer::lineage);
        p.catalog(CATALOG);
        assertThat(p.decide(analyzer.analyze("SELECT id FROM mk.customers WHERE ssn LIKE '1%'")).refusal()).isNotNull();
        assertThat(p.decide(analyzer.analyze("SELECT id FROM mk.customers ORDER BY ssn")).refusal()).isNotNull();
        assertThat(p.decide(analyzer.analyze("SELECT c.id FROM mk.customers c JOIN mk.orders o ON o.x = c.ssn")).refusal()).isNotNull();
        assertThat(p.decide(analyzer.analyze("SELECT id FROM mk.customers WHERE id = 1")).refusal()).isNull();
    }

    @Test
    void resultsWithoutMaskedValuesAreNotLookedAt() throws Exception {
        assertThat(decide("SELECT name, id FROM mk.customers WHERE email = 'x'").plan().statement(0).needsRows()).isFalse();
        assertThat(decide("SELECT * FROM mk.customers").plan().statement(0).needsRows()).isTrue();
        assertThat(decide("SELECT c FROM mk.customers c").plan().statement(0).needsRows()).isTrue();
        assertThat(decide("SELECT * FROM mk.leak()").plan().statement(0).needsRows()).isTrue();
    }

    @Test
    void statementsThatTouchNoMaskedDataAreNotInspected() throws Exception {
        assertThat(decide("SELECT * FROM mk.orders").plan().inspects()).isFalse();
        assertThat(decide("SELECT 1").plan().inspects()).isFalse();
    }
}
