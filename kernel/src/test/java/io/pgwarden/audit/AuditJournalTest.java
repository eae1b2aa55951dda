package io.pgwarden.audit;

import static io.pgwarden.audit.AuditFixture.await;
import static io.pgwarden.audit.AuditFixture.session;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditEvent.Outcome;
import io.pgwarden.store.Store;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit journal: what it holds survives a SIGKILL before the store has it, a torn last
 * entry is ignored (never replayed half), segments are deleted once the store holds them,
 * and a journal that cannot be written refuses statements.
 */
class AuditJournalTest {

    @TempDir
    Path dir;

    private Path journalBase() {
        return dir.resolve("store.audit-journal");
    }

    private static ChainRecord record(long seq, ChainRecord.Kind kind, Long intentSeq, String statement, String outcome) {
        SessionContext s = session("s1", "journal-test");
        return new ChainRecord(seq, kind, Instant.parse("2026-11-26T05:00:00Z").plusSeconds(seq), "gw-test", s.sessionId(),
                s.identity(), s.issuer(), s.groups(), s.clientAddress(), s.database(), s.upstream(), statement, null, null,
                List.of(), kind == ChainRecord.Kind.INTENT ? "ALLOW" : null, null, intentSeq, outcome,
                outcome == null ? null : 1L, null, null);
    }

    /** Where the entries {@link #writeJournal} wrote end (the segment is preallocated beyond). */
    private long writtenEnd;

    /** Writes records 1-4 (start, intent, outcome, intent) as the writer would, and returns the segment file. */
    private Path writeJournal() throws Exception {
        List<ChainRecord> records = List.of(
                record(1, ChainRecord.Kind.SESSION_START, null, null, null),
                record(2, ChainRecord.Kind.INTENT, null, "SELECT 'done'", null),
                record(3, ChainRecord.Kind.OUTCOME, 2L, null, "OK"),
                record(4, ChainRecord.Kind.INTENT, null, "SELECT 'torn'", null));
        try (AuditJournal journal = AuditJournal.openForWriting(journalBase(), true)) {
            byte[] hash = ChainRecord.GENESIS;
            for (ChainRecord r : records) {
                byte[] canonical = r.canonical();
                hash = ChainRecord.hash(hash, canonical);
                journal.append(List.of(canonical), List.of(hash), true);
            }
            writtenEnd = journal.current().channel().position();
            return journal.current().path();
        }
    }

    @Test
    void aTornLastEntryIsIgnoredAndTheRestIsReplayed() throws Exception {
        Path segment = writeJournal();
        long size = writtenEnd;
        int last = 8 + record(4, ChainRecord.Kind.INTENT, null, "SELECT 'torn'", null).canonical().length + 32;
        // A crash in the middle of the last write: only part of its entry reached the disk.
        try (var ch = java.nio.channels.FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(size - last / 2);
        }
        assertThat(AuditJournal.read(journalBase()).entries()).extracting(e -> e.record().seq()).containsExactly(1L, 2L, 3L);

        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            List<AuditEntry> entries = log.list(null, null, 10);
            assertThat(entries).extracting(e -> e.event().kind()).containsExactly(AuditEvent.Kind.SESSION_START,
                    AuditEvent.Kind.STATEMENT, AuditEvent.Kind.SESSION_END);
            assertThat(entries.get(1).event().statement()).isEqualTo("SELECT 'done'");
            assertThat(entries.get(1).event().outcome()).isEqualTo(Outcome.OK);
            assertThat(entries.get(2).event().sequence()).as("the torn record's number is taken by the next").isEqualTo(4);
            assertThat(log.verify()).isEqualTo(VerifyResult.ok(4, 4));
        }
        assertThat(AuditJournal.segments(journalBase())).as("a clean stop leaves no journal").isEmpty();
    }

    @Test
    void aDamagedLastEntryIsIgnored() throws Exception {
        Path segment = writeJournal();
        byte[] bytes = Files.readAllBytes(segment);
        bytes[(int) writtenEnd - 40] ^= 0x55; // inside the last entry's record: its checksum no longer matches
        Files.write(segment, bytes);
        assertThat(AuditJournal.read(journalBase()).entries()).extracting(e -> e.record().seq()).containsExactly(1L, 2L, 3L);
        // Zeros after the end (a file extended but not written, as a crash can leave) are no entry either.
        Files.write(segment, new byte[64], StandardOpenOption.APPEND);
        assertThat(AuditJournal.read(journalBase()).entries()).hasSize(3);
    }

    @Test
    void aJournalThatDoesNotContinueTheStoresChainIsRefused() throws Exception {
        Path segment = writeJournal();
        byte[] bytes = Files.readAllBytes(segment);
        // Change record 2's statement and fix its checksum: the journal is consistent, the chain is not.
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("SELECT 'done'");
        bytes[at + 8] = 'D';
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        long salt = buf.getLong(AuditJournal.MAGIC_TEXT.length());
        int pos = AuditJournal.HEADER_BYTES;
        while (pos < writtenEnd) {
            int length = buf.getInt(pos);
            if (at > pos && at < pos + 8 + length) {
                buf.putInt(pos + 4, AuditJournal.checksum(salt, bytes, pos + 8, length));
            }
            pos += 8 + length;
        }
        Files.write(segment, bytes);
        try (Store store = AuditFixture.store(AuditFixture.url(dir))) {
            assertThatThrownBy(() -> AuditFixture.open(store)).hasMessageContaining("record 2 does not continue the hash chain");
        }
    }

    @Test
    void recordsOnlyInTheJournalWhenTheGatewayWasKilledAreStoredAtTheNextStart() throws Exception {
        String url = AuditFixture.url(dir);
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                AuditCrashHelper.class.getName(), url, "hold-flush")
                .redirectErrorStream(true).start();
        long running;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("READY ")) {
                System.out.println("child: " + line);
            }
            assertThat(line).as("the child reached READY").isNotNull();
            running = Long.parseLong(line.substring("READY ".length()).trim());
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(AuditJournal.read(journalBase()).entries()).extracting(e -> e.record().seq()).contains(running);

        // The stopped gateway's store, read as `pgwarden audit list` does: the journal is applied first.
        try (Store store = AuditFixture.store(url)) {
            List<AuditEntry> entries = new AuditReader(store).list(null, null, 10);
            assertThat(entries).extracting(e -> e.event().statement()).contains("SELECT 1", "DELETE FROM big_table");
            assertThat(entries.getLast().pending()).isTrue();
            assertThat(new AuditReader(store).verify().ok()).isTrue();
        }
        try (Store store = AuditFixture.store(url); AuditLog log = AuditFixture.open(store)) {
            assertThat(log.recordsWritten()).as("an outcome for the intent and the session's end").isEqualTo(2);
            List<AuditEntry> entries = log.list("crash-test", null, 10);
            assertThat(entries).extracting(e -> e.event().kind()).containsExactly(AuditEvent.Kind.SESSION_START,
                    AuditEvent.Kind.STATEMENT, AuditEvent.Kind.STATEMENT, AuditEvent.Kind.SESSION_END);
            assertThat(entries.get(1).event().outcome()).isEqualTo(Outcome.OK);
            assertThat(entries.get(2).event().sequence()).isEqualTo(running);
            assertThat(entries.get(2).event().outcome()).isEqualTo(Outcome.UNKNOWN);
            assertThat(log.verify().ok()).isTrue();
        }
    }

    @Test
    void segmentsAreDeletedOnceTheStoreHoldsTheirRecords() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            for (int i = 0; i < 50; i++) {
                long seq = await(log.recordIntent("s1", StatementIntent.allowed("SELECT " + i)));
                await(log.recordOutcome(seq, StatementOutcome.ok(1L, Duration.ofMillis(1))));
            }
            assertThat(AuditJournal.read(journalBase()).entries()).as("journaled").isNotEmpty();
            assertThat(log.list(null, null, 100)).hasSize(51); // the start and 50 statements; waits for the flusher
            AuditJournal.Contents left = AuditJournal.read(journalBase());
            assertThat(log.storedThrough()).isEqualTo(101); // the start, and an intent and an outcome for each statement
            // What the journal still holds is in the store: segments kept as spares for reuse.
            assertThat(left.entries()).extracting(e -> e.record().seq()).allMatch(seq -> seq <= 101);
            assertThat(left.segments()).as("the segment being written and at most two spares").hasSizeLessThanOrEqualTo(3);
        }
        assertThat(AuditJournal.segments(journalBase())).isEmpty();
    }

    @Test
    void aReusedSegmentDoesNotReplayTheEntriesOfItsEarlierUse() throws Exception {
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            Path first = AuditJournal.segments(journalBase()).firstEntry().getValue();
            Object firstFile = Files.getAttribute(first, "unix:ino");
            // Two flushed rounds: the first segment becomes a spare and is renamed to start a later one.
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 30; i++) {
                    long seq = await(log.recordIntent("s1", StatementIntent.allowed("SELECT " + round + ", " + i)));
                    await(log.recordOutcome(seq, StatementOutcome.ok(1L, Duration.ofMillis(1))));
                }
                log.list(null, null, 1); // waits for the flusher
            }
            List<Object> files = new ArrayList<>();
            for (Path p : AuditJournal.segments(journalBase()).values()) {
                files.add(Files.getAttribute(p, "unix:ino"));
            }
            assertThat(files).as("the first file was reused under a later name").contains(firstFile);
            assertThat(AuditJournal.segments(journalBase()).firstKey()).isGreaterThan(1L);

            long last = await(log.recordIntent("s1", StatementIntent.allowed("SELECT 'after reuse'")));
            AuditJournal.Contents contents = AuditJournal.read(journalBase());
            assertThat(contents.entries().getLast().record().seq())
                    .as("older entries left in a reused file are not taken for newer ones").isEqualTo(last);
            assertThat(contents.entries()).extracting(e -> e.record().seq()).isSorted().doesNotHaveDuplicates();
            assertThat(log.verify().ok()).isTrue();
        }
        assertThat(AuditJournal.segments(journalBase())).as("a clean stop leaves no journal, spares included").isEmpty();
    }

    @Test
    void aJournalThatCannotBeWrittenRefusesStatementsUntilItCanAgain() throws Exception {
        assumeTrue(chattr("-i", dir), "chattr works here");
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            await(log.sessionStarted(session("s1", "a")));
            List<Path> segments = new ArrayList<>(AuditJournal.segments(journalBase()).values());
            // Immutable: writes through the open file fail (EPERM), and no new segment can be made.
            try {
                for (Path p : segments) {
                    assertThat(chattr("+i", p)).isTrue();
                }
                assertThat(chattr("+i", dir)).isTrue();
                assertThatThrownBy(() -> await(log.recordIntent("s1", StatementIntent.allowed("DELETE FROM t"))))
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(AuditUnavailableException.class)
                        .hasMessageContaining("journal cannot be written");
                assertThatThrownBy(() -> await(log.recordIntent("s1", StatementIntent.allowed("DELETE FROM t"))))
                        .hasCauseInstanceOf(AuditUnavailableException.class);
            } finally {
                chattr("-i", dir);
                for (Path p : segments) {
                    chattr("-i", p);
                }
            }
            long seq = await(log.recordIntent("s1", StatementIntent.allowed("SELECT 1")));
            assertThat(seq).as("the refused intents took no sequence number").isEqualTo(2);
            await(log.recordOutcome(seq, StatementOutcome.ok(1L, null)));
            assertThat(log.list(null, null, 10)).extracting(e -> e.event().statement()).containsOnly(null, "SELECT 1");
            assertThat(log.verify()).isEqualTo(VerifyResult.ok(3, 3));
        }
        try (Store store = AuditFixture.store(AuditFixture.url(dir)); AuditLog log = AuditFixture.open(store)) {
            assertThat(log.verify().ok()).isTrue();
            assertThat(log.list(null, null, 10)).extracting(e -> e.event().statement()).doesNotContain("DELETE FROM t");
        }
    }

    private static boolean chattr(String flag, Path path) {
        try {
            Process p = new ProcessBuilder("chattr", flag, path.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
