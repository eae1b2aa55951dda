package io.pgwarden.audit;

import static io.pgwarden.audit.AuditFixture.await;
import static io.pgwarden.audit.AuditFixture.session;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.store.Store;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tampering with the store through plain JDBC, as someone with the file would, is found by
 * verify at the first record it touched. The chain written by {@link #writeChain}:
 * <pre>
 * 1 SESSION_START s1   2 INTENT      3 OUTCOME of 2 (rows 10)
 * 4 INTENT             5 OUTCOME of 4 (ERROR 42P01)
 * 6 SESSION_START s2   7 INTENT      8 OUTCOME of 7
 * 9 SESSION_END s1    10 SESSION_END s2
 * </pre>
 */
class AuditChainTest {

    @TempDir
    Path dir;

    @BeforeEach
    void writeChain() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "alice")));
            long a = await(log.recordIntent("s1", new StatementIntent("UPDATE t SET x = 1", "fp", "UPDATE",
                    List.of("public.t"), AuditEvent.Decision.ALLOW, null)));
            await(log.recordOutcome(a, StatementOutcome.ok(10L, Duration.ofMillis(3))));
            long b = await(log.recordIntent("s1", StatementIntent.allowed("SELECT * FROM nope")));
            await(log.recordOutcome(b, StatementOutcome.error("42P01", Duration.ofMillis(1))));
            await(log.sessionStarted(session("s2", "bob")));
            long c = await(log.recordIntent("s2", StatementIntent.allowed("SELECT 1")));
            await(log.recordOutcome(c, StatementOutcome.ok(1L, null)));
            await(log.sessionEnded("s1", "client disconnected"));
            await(log.sessionEnded("s2", "client disconnected"));
        }
    }

    private VerifyResult tamperAndVerify(String... sql) throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir))) {
            try (Connection c = store.connect(); Statement s = c.createStatement()) {
                for (String statement : sql) {
                    s.execute(statement);
                }
            }
            return new AuditReader(store).verify();
        }
    }

    @Test
    void anUntouchedChainVerifies() throws Exception {
        VerifyResult r = tamperAndVerify();
        assertThat(r.ok()).isTrue();
        assertThat(r.checked()).isEqualTo(10);
        assertThat(r.headSeq()).isEqualTo(10);
        assertThat(r.toString()).isEqualTo("ok: 10 records, chain intact through 10");
    }

    @Test
    void aChangedIdentityIsFoundAtItsRecord() throws Exception {
        VerifyResult r = tamperAndVerify("UPDATE audit_record SET identity_name = 'mallory' WHERE seq = 2");
        assertThat(r.ok()).isFalse();
        assertThat(r.brokenSeq()).isEqualTo(2);
        assertThat(r.checked()).isEqualTo(1);
        assertThat(r.problem()).contains("hash does not match");
    }

    @Test
    void aChangedOutcomeIsFoundAtTheOutcomeRecord() throws Exception {
        assertThat(tamperAndVerify("UPDATE audit_record SET rows_affected = 0 WHERE seq = 3").brokenSeq()).isEqualTo(3);
    }

    @Test
    void anErrorTurnedIntoSuccessIsFound() throws Exception {
        VerifyResult r = tamperAndVerify("UPDATE audit_record SET outcome = 'OK', sqlstate = NULL WHERE seq = 5");
        assertThat(r.brokenSeq()).isEqualTo(5);
    }

    @Test
    void aListSetToNullIsNotTakenForAnEmptyList() throws Exception {
        assertThat(tamperAndVerify("UPDATE audit_record SET relations_json = NULL WHERE seq = 4").brokenSeq()).isEqualTo(4);
        assertThat(tamperAndVerify("UPDATE audit_record SET relations_json = '[]' WHERE seq = 2").brokenSeq()).isEqualTo(2);
    }

    @Test
    void aChangedTimeIsFound() throws Exception {
        assertThat(tamperAndVerify("UPDATE audit_record SET recorded_at = recorded_at - INTERVAL '1' HOUR WHERE seq = 7")
                .brokenSeq()).isEqualTo(7);
    }

    @Test
    void aDeletedRecordIsNamed() throws Exception {
        VerifyResult r = tamperAndVerify("DELETE FROM audit_record WHERE seq = 4");
        assertThat(r.brokenSeq()).isEqualTo(4);
        assertThat(r.problem()).isEqualTo("record 4 is missing (the next record is 5)");
    }

    @Test
    void aDeletedStatementWithItsOutcomeIsFound() throws Exception {
        VerifyResult r = tamperAndVerify("DELETE FROM audit_record WHERE seq IN (4, 5)");
        assertThat(r.brokenSeq()).isEqualTo(4);
        assertThat(r.problem()).isEqualTo("records 4 to 5 are missing (the next record is 6)");
    }

    @Test
    void renumberingAfterADeletionIsFound() throws Exception {
        VerifyResult r = tamperAndVerify("DELETE FROM audit_record WHERE seq = 4",
                "UPDATE audit_record SET seq = seq - 1 WHERE seq > 4 ORDER BY seq");
        assertThat(r.brokenSeq()).isEqualTo(4);
        assertThat(r.problem()).contains("hash does not match");
    }

    @Test
    void swappedRecordsAreFoundAtTheFirst() throws Exception {
        VerifyResult r = tamperAndVerify("UPDATE audit_record SET seq = -1 WHERE seq = 4",
                "UPDATE audit_record SET seq = 4 WHERE seq = 7",
                "UPDATE audit_record SET seq = 7 WHERE seq = -1");
        assertThat(r.brokenSeq()).isEqualTo(4);
    }

    @Test
    void aChangedHashIsFoundAtItsRecord() throws Exception {
        assertThat(tamperAndVerify("UPDATE audit_record SET hash = X'" + "00".repeat(32) + "' WHERE seq = 6").brokenSeq())
                .isEqualTo(6);
    }

    @Test
    void recordsCutOffTheEndAreFoundThroughTheChainHead() throws Exception {
        VerifyResult r = tamperAndVerify("DELETE FROM audit_record WHERE seq >= 9");
        assertThat(r.brokenSeq()).isEqualTo(9);
        assertThat(r.problem()).isEqualTo("records 9 to 10 are missing from the end of the chain (the chain head says the last record is 10)");
    }

    @Test
    void aRecordAppendedOutsideTheGatewayIsFound() throws Exception {
        VerifyResult r = tamperAndVerify("INSERT INTO audit_record (seq, kind, recorded_at, gateway_id, session_id, hash) "
                + "SELECT 11, kind, recorded_at, gateway_id, session_id, hash FROM audit_record WHERE seq = 10");
        assertThat(r.brokenSeq()).isEqualTo(11);
    }

    @Test
    void anUnreadableRecordIsReportedNotThrown() throws Exception {
        VerifyResult r = tamperAndVerify("UPDATE audit_record SET kind = 'SOMETHING' WHERE seq = 3");
        assertThat(r.brokenSeq()).isEqualTo(3);
        assertThat(r.problem()).contains("cannot be read");
    }

    @Test
    void theChainContinuesAcrossRestartsAndStillVerifies() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s3", "carol")));
            await(log.sessionEnded("s3", "done"));
            assertThat(log.verify()).isEqualTo(VerifyResult.ok(12, 12));
        }
    }
}
