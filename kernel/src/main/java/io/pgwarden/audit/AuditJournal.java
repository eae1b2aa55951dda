package io.pgwarden.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail's write-ahead journal: the durable record on the statement's path
 * (docs/audit.md, "Durable before the statement runs"). The writer appends each group
 * commit's records here with one {@code write} (and one {@code fdatasync} when
 * {@code audit.fsync} is on) before it completes their futures; the store's tables are filled
 * from memory in the background and, once they hold a segment's records durably, the
 * segment is deleted. At start, records in the journal beyond the store's last one are
 * replayed into the store first.
 *
 * <h2>Files</h2>
 * Segments {@code <store file>.audit-journal.<n>} beside the H2 file, {@code n} counting up.
 * A segment is a 16-byte header ({@value #MAGIC_TEXT} and a random 8-byte salt chosen each
 * time the file is started) and entries, one per record:
 * <pre>
 *   int length (of what follows the checksum) | int CRC-32C (of the salt and what follows) |
 *   canonical encoding of the record (as hashed, see {@link ChainRecord#canonical()}) | 32-byte chain hash
 * </pre>
 * A crash can leave the last entry half written (the write was not acknowledged, so nobody
 * waited for it): its length runs past the end or its checksum fails, and it and everything
 * after it in that segment are ignored, never replayed half.
 *
 * <h2>Why files are preallocated and reused</h2>
 * {@code fdatasync} after appending to a file must also commit the file's new size and
 * blocks through the file system's journal; after overwriting blocks a file already owns it
 * flushes only the data. On the development machine's ext4 that halved the wait of every
 * group commit (270 µs → 120-150 µs, docs/performance.md), which with {@code audit.fsync}
 * bounds the statements per second. So a new segment is filled with zeros to
 * {@value #PREALLOCATED_BYTES} bytes before use (on the flusher's thread, outside the
 * writer's lock), and a segment whose records the store holds is kept as a spare and renamed
 * to start the next one instead of being deleted. A reused file still holds its old entries
 * after the new ones; the new salt makes their checksums fail, so reading stops at the end
 * of what this use of the file wrote. The tail of zeros reads as "no more entries".
 *
 * <p>Not thread-safe: the audit log serialises {@link #append} and {@link #swap} with one lock.
 */
final class AuditJournal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditJournal.class);
    static final String MAGIC_TEXT = "PGWJRNL2";
    private static final byte[] MAGIC = MAGIC_TEXT.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** The magic and the salt: where the first entry starts. */
    static final int HEADER_BYTES = 16;
    /**
     * The size a new segment is filled to. A flush every 200 ms cuts segments at a few hundred
     * KiB at the rates measured here; a segment that outgrows it simply grows (those appends
     * pay the slower sync).
     */
    static final int PREALLOCATED_BYTES = 2 << 20;
    /** Spare segments kept for reuse: the flusher's cycle needs one at a time; one more absorbs a slow flush. */
    private static final int MAX_SPARES = 2;
    private static final java.security.SecureRandom SALTS = new java.security.SecureRandom();
    /** Larger than any record can be (a statement is cut at 1,000,000 characters): a longer length is garbage. */
    static final int MAX_ENTRY = 64 << 20;
    private static final int MIN_ENTRY = 1 + 8 + 32; // at least the seq's presence byte and value, and the hash

    private final Path base;
    private final boolean sync;
    private Segment current;
    /** Segments no longer written to, oldest first: deleted once the store holds their records. */
    private final List<Segment> closed = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicLong nextIndex;
    /** Files whose records the store holds, kept to be renamed into the next segments (see above). */
    private final java.util.concurrent.ConcurrentLinkedDeque<Path> spares = new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** A failed write could not be undone: the next append starts a new segment. */
    private boolean broken;

    /** One file of the journal. */
    record Segment(long index, Path path, FileChannel channel, long salt) {
    }

    /** A record as the journal holds it. */
    record Entry(ChainRecord record, byte[] hash) {
    }

    /** What {@link #read} found: the records in order, and how many bytes were ignored as torn. */
    record Contents(List<Entry> entries, long ignoredBytes, List<Path> segments) {
    }

    private AuditJournal(Path base, boolean sync, long nextIndex) {
        this.base = base;
        this.sync = sync;
        this.nextIndex = new java.util.concurrent.atomic.AtomicLong(nextIndex);
    }

    /**
     * Opens the journal for writing: existing segments (already replayed into the store by
     * the caller) are kept in the closed list, to be deleted after the next flush, and a new
     * segment is started.
     */
    static AuditJournal openForWriting(Path base, boolean sync) throws IOException {
        TreeMap<Long, Path> existing = segments(base);
        AuditJournal journal = new AuditJournal(base, sync, existing.isEmpty() ? 1 : existing.lastKey() + 1);
        for (var e : existing.entrySet()) {
            journal.closed.add(new Segment(e.getKey(), e.getValue(), null, 0));
        }
        journal.current = journal.prepareNext();
        return journal;
    }

    /** The segments of the journal at {@code base}, by index. */
    static TreeMap<Long, Path> segments(Path base) throws IOException {
        TreeMap<Long, Path> found = new TreeMap<>();
        Path dir = base.toAbsolutePath().getParent();
        String prefix = base.getFileName() + ".";
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith(prefix)) {
                    try {
                        found.put(Long.parseLong(name.substring(prefix.length())), p);
                    } catch (NumberFormatException notOurs) {
                        // another file with a similar name
                    }
                }
            }
        }
        return found;
    }

    /**
     * Reads every segment in order. An entry that is cut short or fails its checksum ends its
     * segment (the rest of that segment is ignored); a later segment that repeats sequence
     * numbers replaces the earlier entries from there on (it was started after a write that
     * failed, whose records nobody was told were recorded).
     */
    static Contents read(Path base) throws IOException {
        List<Entry> entries = new ArrayList<>();
        long ignored = 0;
        TreeMap<Long, Path> segments = segments(base);
        for (Path path : segments.values()) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(path);
            } catch (NoSuchFileException gone) {
                continue;
            }
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            if (bytes.length < HEADER_BYTES || !ByteBuffer.wrap(bytes, 0, MAGIC.length).equals(ByteBuffer.wrap(MAGIC))) {
                ignored += bytes.length; // created, but the header never reached the disk
                continue;
            }
            long salt = buf.getLong(MAGIC.length);
            buf.position(HEADER_BYTES);
            while (buf.remaining() > 0) {
                int start = buf.position();
                Entry entry = entry(buf, salt);
                if (entry == null) {
                    if (!zeros(bytes, start)) {
                        ignored += bytes.length - start;
                        LOG.info("audit journal {}: ignoring {} byte(s) from offset {}: an entry cut short or damaged, "
                                + "or left from the file's earlier use (a write the gateway never acknowledged)",
                                path, bytes.length - start, start);
                    }
                    break;
                }
                long seq = entry.record().seq();
                while (!entries.isEmpty() && entries.getLast().record().seq() >= seq) {
                    entries.removeLast();
                }
                entries.add(entry);
            }
        }
        return new Contents(entries, ignored, List.copyOf(segments.values()));
    }

    /** Whether everything from {@code from} on is zero: preallocated space never written. */
    private static boolean zeros(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** The checksum of an entry's body in a segment with this salt. */
    static int checksum(long salt, byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(8).putLong(0, salt));
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    /** One entry at the buffer's position, or null (position undefined) when it is torn or damaged. */
    private static Entry entry(ByteBuffer buf, long salt) {
        if (buf.remaining() < 8) {
            return null;
        }
        int length = buf.getInt();
        int crc = buf.getInt();
        if (length < MIN_ENTRY || length > MAX_ENTRY || length > buf.remaining()) {
            return null;
        }
        if (checksum(salt, buf.array(), buf.position(), length) != crc) {
            return null;
        }
        try {
            ByteBuffer body = buf.slice(buf.position(), length - 32);
            ChainRecord record = ChainRecord.decode(body);
            if (body.hasRemaining()) {
                return null;
            }
            byte[] hash = new byte[32];
            buf.get(buf.position() + length - 32, hash);
            buf.position(buf.position() + length);
            return new Entry(record, hash);
        } catch (RuntimeException e) {
            return null; // a checksum that matches garbage: treat as damaged all the same
        }
    }

    /** The bytes an entry takes in the journal. */
    static int entryBytes(byte[] canonical, byte[] hash) {
        return 8 + canonical.length + hash.length;
    }

    /**
     * Appends one entry per record ({@code canonicals[i]} with {@code hashes[i]}) with one
     * write, forced to the disk when {@code audit.fsync} is on and {@code force} asks for it
     * (the sync also makes every earlier write of the segment durable). On failure the segment
     * is cut back to where it was, so that no half-written entry stays in the middle of the
     * journal; when even that fails, the next append starts a new segment.
     */
    void append(List<byte[]> canonicals, List<byte[]> hashes, boolean force) throws IOException {
        if (broken) {
            closed.add(current);
            closeQuietly(current);
            current = prepareNext();
            broken = false;
        }
        int bytes = 0;
        for (int i = 0; i < canonicals.size(); i++) {
            bytes += entryBytes(canonicals.get(i), hashes.get(i));
        }
        ByteBuffer entries = ByteBuffer.allocate(bytes);
        for (int i = 0; i < canonicals.size(); i++) {
            byte[] canonical = canonicals.get(i);
            byte[] hash = hashes.get(i);
            int at = entries.position();
            entries.putInt(canonical.length + hash.length).putInt(0).put(canonical).put(hash);
            entries.putInt(at + 4, checksum(current.salt(), entries.array(), at + 8, canonical.length + hash.length));
        }
        entries.flip();
        FileChannel ch = current.channel();
        long before = ch.position();
        try {
            while (entries.hasRemaining()) {
                ch.write(entries);
            }
            if (sync && force) {
                ch.force(false);
            }
        } catch (IOException | RuntimeException e) {
            try {
                ch.truncate(before);
                ch.position(before);
                if (sync) {
                    ch.force(false);
                }
            } catch (IOException | RuntimeException undo) {
                e.addSuppressed(undo);
                broken = true;
            }
            throw e;
        }
    }

    /** Whether the current segment holds entries. */
    boolean currentHasEntries() throws IOException {
        return current.channel().isOpen() && current.channel().position() > HEADER_BYTES;
    }

    /**
     * Starts the next segment, ready for {@link #swap}: a spare file renamed, or a new file
     * filled with zeros (see "Why files are preallocated"), its header written with a fresh
     * salt, durably (file and folder entry) when {@code audit.fsync} is on. Called outside the
     * writer's lock: the slow part of a rotation does not hold up statements.
     */
    Segment prepareNext() throws IOException {
        long index = nextIndex.getAndIncrement();
        Path path = base.resolveSibling(base.getFileName() + "." + index);
        Path spare = spares.pollFirst();
        boolean reused = false;
        if (spare != null) {
            try {
                Files.move(spare, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                reused = true;
            } catch (IOException e) {
                LOG.debug("audit journal: cannot reuse {}: {}", spare, e.toString());
                Files.deleteIfExists(spare);
            }
        }
        FileChannel ch = reused
                ? FileChannel.open(path, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        long salt = SALTS.nextLong();
        try {
            if (!reused) {
                ByteBuffer zeros = ByteBuffer.allocate(64 << 10);
                for (long at = 0; at < PREALLOCATED_BYTES; at += zeros.capacity()) {
                    ch.write(zeros.clear(), at);
                }
            }
            ch.write(ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putLong(salt).flip(), 0);
            ch.position(HEADER_BYTES);
            if (sync) {
                ch.force(true);
                syncFolder(path.toAbsolutePath().getParent());
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(path);
            throw e;
        }
        return new Segment(index, path, ch, salt);
    }

    /** Makes {@code next} the segment written to; the old one joins the closed segments. Under the writer's lock. */
    void swap(Segment next) {
        closed.add(current);
        current = next;
        broken = false;
    }

    /** The closed segments so far: their records are all in memory, waiting for the store. */
    List<Segment> closedSegments() {
        return List.copyOf(closed);
    }

    /**
     * Retires closed segments whose records the store now holds durably: kept as spares for
     * {@link #prepareNext} up to {@value #MAX_SPARES}, deleted beyond that. A spare keeps its
     * segment name until it is reused; a start after a crash reads it like any segment and
     * skips its records, which the store holds.
     */
    void delete(List<Segment> flushed) {
        retire(flushed, true);
    }

    private void retire(List<Segment> flushed, boolean keepSpares) {
        for (Segment s : flushed) {
            closeQuietly(s);
            closed.remove(s);
            if (keepSpares && s.channel() != null && spares.size() < MAX_SPARES) {
                spares.addLast(s.path());
                continue;
            }
            try {
                Files.deleteIfExists(s.path());
            } catch (IOException e) {
                LOG.warn("audit journal: cannot delete {} (its records are in the store; it is skipped at the next start): {}",
                        s.path(), e.toString());
            }
        }
    }

    private static void syncFolder(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a folder; the file itself is synced.
            LOG.debug("audit journal: cannot sync folder {}: {}", dir, e.toString());
        }
    }

    private static void closeQuietly(Segment s) {
        if (s != null && s.channel() != null) {
            try {
                s.channel().close();
            } catch (IOException ignored) {
                // being deleted or replaced anyway
            }
        }
    }

    /** Closes the current segment; it stays on disk (deleted by the caller after the last flush). */
    @Override
    public void close() {
        closeQuietly(current);
    }

    /** Closes and deletes every segment and spare: after a clean stop, when the store holds every record. */
    void deleteAll() {
        closeQuietly(current);
        List<Segment> all = new ArrayList<>(closed);
        all.add(current);
        retire(all, false);
        for (Path spare; (spare = spares.pollFirst()) != null; ) {
            try {
                Files.deleteIfExists(spare);
            } catch (IOException e) {
                LOG.warn("audit journal: cannot delete {} (its records are in the store; it is skipped at the next start): {}",
                        spare, e.toString());
            }
        }
    }

    /** The current segment, for the last flush at shutdown. */
    Segment current() {
        return current;
    }
}
