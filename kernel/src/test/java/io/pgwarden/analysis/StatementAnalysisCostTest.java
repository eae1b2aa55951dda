package io.pgwarden.analysis;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Prints what statement analysis costs per statement; asserts nothing (timings on a shared
 * machine are not a test). Run with:
 *
 * <pre>
 * mvn -B -q -pl kernel test -Dtest=StatementAnalysisCostTest -Dpgwarden.measure=true -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * The figures are in docs/architecture.md ("Statement analysis").
 */
@EnabledIfSystemProperty(named = "pgwarden.measure", matches = "true")
class StatementAnalysisCostTest {
    private static final String SHORT = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
    private static final String TYPICAL = "SELECT c.id, c.name, o.total FROM public.customers c JOIN orders o ON o.customer_id = c.id "
            + "WHERE c.id = $1 AND o.status = 'open' ORDER BY o.created_at DESC LIMIT 20";
    private static final String ORM = "SELECT t0.id, t0.created_at, t0.updated_at, t0.name, t0.email, t0.status, t0.owner_id, "
            + "t1.id AS t1_id, t1.title, t1.body, t1.published_at, t2.id AS t2_id, t2.label FROM app.accounts t0 "
            + "LEFT OUTER JOIN app.posts t1 ON t1.account_id = t0.id LEFT OUTER JOIN app.tags t2 ON t2.post_id = t1.id "
            + "WHERE t0.status IN ($1, $2, $3) AND t0.created_at > $4 AND (t1.published_at IS NULL OR t1.published_at < now()) "
            + "AND EXISTS (SELECT 1 FROM app.memberships m WHERE m.account_id = t0.id AND m.role = ANY ($5)) "
            + "ORDER BY t0.created_at DESC, t1.id LIMIT 50 OFFSET 100";

    @Test
    void printCosts() throws Exception {
        PgQueryLibrary library = PgQueryLibrary.load();
        StatementAnalyzer uncached = new StatementAnalyzer(library, 0, 0, StatementAnalyzer.DEFAULT_MAX_STATEMENT_BYTES);
        StatementAnalyzer cached = StatementAnalyzer.create();
        System.out.printf(Locale.ROOT, "java %s, %d cpus, library %s%n", Runtime.version(),
                Runtime.getRuntime().availableProcessors(), library.path());
        for (String sql : new String[] {SHORT, TYPICAL, ORM}) {
            byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
            System.out.printf(Locale.ROOT, "%n%d bytes: %s...%n", utf8.length, sql.substring(0, 40));
            report("  libpg_query parse (FFM, JSON out)", () -> library.parseJson(utf8));
            byte[] tree = library.parseJson(utf8);
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            report("  JSON (" + tree.length + " bytes) to Jackson tree", () -> json.readTree(tree));
            com.fasterxml.jackson.databind.JsonNode stmt = json.readTree(tree).path("stmts").get(0).get("stmt");
            report("  walk the tree", () -> StatementWalker.analyse(stmt));
            report("  analyse, no cache (parse + JSON + walk)", () -> uncached.analyze(sql));
            report("  analyse, cache hit", () -> cached.analyze(sql));
            report("  fingerprint", () -> library.fingerprint(sql));
            report("  normalize", () -> library.normalize(sql));
        }
        String many = (TYPICAL + ";").repeat(10);
        report("\n10 statements in one string, no cache", () -> uncached.analyze(many));
    }

    @FunctionalInterface
    interface Work {
        Object run() throws Exception;
    }

    private static void report(String what, Work work) throws Exception {
        long sink = 0;
        long warmUntil = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < warmUntil) {
            sink += work.run().hashCode();
        }
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            int n = 0;
            long start = System.nanoTime();
            long end = start + 400_000_000L;
            long now;
            do {
                sink += work.run().hashCode();
                n++;
            } while ((now = System.nanoTime()) < end);
            best = Math.min(best, (now - start) / 1000.0 / n);
        }
        System.out.printf(Locale.ROOT, "%-45s %9.2f us  (best of 5 rounds)%s%n", what, best, sink == 42 ? " " : "");
    }
}
