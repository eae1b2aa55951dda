package io.pgwarden.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditEvent.Outcome;
import io.pgwarden.store.Store;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway process killed with SIGKILL after an intent was committed: on the next start
 * the intent shows with outcome unknown, never lost and never silently completed.
 */
class AuditCrashRecoveryTest {

    @TempDir
    Path dir;

    @Test
    void anIntentWithoutOutcomeShowsAsUnknownAfterKillDashNine() throws Exception {
        String url = AuditFixture.url(dir);
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                AuditCrashHelper.class.getName(), url)
                .redirectErrorStream(true).start();
        long running;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("READY ")) {
                System.out.println("child: " + line);
            }
            assertThat(line).as("the child reached READY").isNotNull();
            running = Long.parseLong(line.substring("READY ".length()).trim());
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no H2 close
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(child.exitValue()).isEqualTo(137);

        try (Store store = AuditFixture.store(url); AuditLog log = AuditFixture.open(store)) {
            assertThat(log.recordsWritten()).as("an outcome for the intent and the session's end").isEqualTo(2);
            List<AuditEntry> entries = log.list("crash-test", null, 10);
            assertThat(entries).extracting(e -> e.event().kind()).containsExactly(AuditEvent.Kind.SESSION_START,
                    AuditEvent.Kind.STATEMENT, AuditEvent.Kind.STATEMENT, AuditEvent.Kind.SESSION_END);
            assertThat(entries.get(1).event().outcome()).isEqualTo(Outcome.OK);
            AuditEntry unknown = entries.get(2);
            assertThat(unknown.event().sequence()).isEqualTo(running);
            assertThat(unknown.event().statement()).isEqualTo("DELETE FROM big_table");
            assertThat(unknown.event().outcome()).isEqualTo(Outcome.UNKNOWN);
            assertThat(unknown.pending()).isFalse();
            assertThat(unknown.outcomeReason()).isEqualTo(AuditLog.STOPPED);
            assertThat(entries.get(3).event().reason()).isEqualTo(AuditLog.SESSION_STOPPED);
            assertThat(log.verify().ok()).isTrue();
        }
        try (Store store = AuditFixture.store(url); AuditLog again = AuditFixture.open(store)) {
            assertThat(again.recordsWritten()).as("recovered once, not on every start").isZero();
        }
    }
}
