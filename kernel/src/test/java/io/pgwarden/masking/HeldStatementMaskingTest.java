package io.pgwarden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ApprovalFixture;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A statement that an approval rule holds and a person approves runs with the masking it was
 * decided with: approval lets it run, it does not unmask it. (Found when approvals and masking
 * met: the approved verdict was rebuilt without the masking plan.)
 */
class HeldStatementMaskingTest {
    private static LocalPostgres pg;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        pg = TestPostgres.shared();
        pg.sql(TestPostgres.DATABASE, """
                DROP SCHEMA IF EXISTS hm CASCADE;
                CREATE SCHEMA hm;
                CREATE TABLE hm.people (id int, email text);
                INSERT INTO hm.people VALUES (1, 'held.secret@example.com');
                """);
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg), ApprovalFixture.deleterKeys("held-keys", ""),
                ApprovalFixture.heldPolicy("""
                      - { when: { relations: [hm.people] }, approvers: [web], timeout: 1m }
                    mask:
                      - { column: hm.people.email, masker: redact }
                """)).replace("policies:\n", "approvers:\n  - { type: web }\npolicies:\n");
        gateway = TestGateway.start(yaml, pg.password());
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void anApprovedStatementIsStillMasked() throws Exception {
        for (Map<String, String> mode : List.of(Map.of("preferQueryMode", "simple"), Map.<String, String>of(),
                Map.of("prepareThreshold", "-1", "binaryTransfer", "true"))) {
            String sql = "SELECT id, email, upper(email) FROM hm.people /* " + mode.hashCode() + " */";
            var rows = ApprovalFixture.inBackground(() -> {
                try (Connection c = ApprovalFixture.connect(gateway, ApprovalFixture.DELETER, ApprovalFixture.DELETER_KEY, mode);
                     Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                    List<String> seen = new ArrayList<>();
                    while (rs.next()) {
                        seen.add(rs.getInt(1) + "|" + rs.getString(2) + "|" + rs.getString(3));
                    }
                    return seen;
                }
            });
            String id = awaitPending(sql);
            gateway.gateway().approvals().decide(id, true, "alice", "web", null);
            assertThat(rows.get(60, TimeUnit.SECONDS)).as(mode.toString()).containsExactly("1|[redacted]|[redacted]");
        }
    }

    private static String awaitPending(String statement) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            var pending = gateway.gateway().approvals().list(false).stream()
                    .filter(a -> a.request().statement().equals(statement)).toList();
            if (!pending.isEmpty()) {
                return pending.getFirst().id();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no approval request for " + statement);
    }
}
