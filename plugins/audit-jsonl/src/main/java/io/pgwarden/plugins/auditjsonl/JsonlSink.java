package io.pgwarden.plugins.auditjsonl;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;

/**
 * Appends events to the day's file. The day is the plugin's clock's (in the configured
 * zone) when a batch is written, so a batch goes whole into one file; a file name is the
 * configured one with the date before the extension ({@code audit.jsonl} → {@code
 * audit-2026-11-25.jsonl}).
 *
 * <p>A batch is delivered when its lines are written and {@code fsync}ed. A crash or a full
 * disk can leave a line half-written at the end of a file; the next write first ends that
 * line, so the torn fragment stands alone on its line (a reader skips what does not parse)
 * and the events in it are written again whole: delivery is at least once.
 */
final class JsonlSink implements AuditSink {
    private final Path path;
    private final boolean daily;
    private final Clock clock;
    private Path openPath;
    private FileChannel channel;

    JsonlSink(Path path, boolean daily, Clock clock) {
        this.path = path;
        this.daily = daily;
        this.clock = clock;
    }

    /** {@code audit.jsonl} on 2026-11-25 → {@code audit-2026-11-25.jsonl}; no extension → {@code audit-2026-11-25}. */
    static Path dated(Path path, LocalDate date) {
        String name = path.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String dated = dot > 0 ? name.substring(0, dot) + "-" + date + name.substring(dot) : name + "-" + date;
        return path.resolveSibling(dated);
    }

    /** The file the next batch goes to. */
    Path currentFile() {
        return daily ? dated(path, LocalDate.now(clock)) : path;
    }

    @Override
    public synchronized void deliver(List<AuditEvent> batch) throws IOException {
        Path file = currentFile();
        StringBuilder lines = new StringBuilder(batch.size() * 512);
        for (AuditEvent e : batch) {
            lines.append(e.toJson()).append('\n');
        }
        ByteBuffer bytes = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.UTF_8));
        try {
            if (!file.equals(openPath)) {
                closeChannel();
                open(file);
            }
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(false);
        } catch (IOException e) {
            closeChannel(); // reopened (and a torn line ended) on the retry
            throw e;
        }
    }

    private void open(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        boolean torn = false;
        if (Files.exists(file)) {
            // READ and APPEND do not go together in one channel.
            try (FileChannel r = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = r.size();
                if (size > 0) {
                    ByteBuffer last = ByteBuffer.allocate(1);
                    r.read(last, size - 1);
                    torn = last.get(0) != '\n';
                }
            }
        }
        FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        if (torn) {
            try {
                c.write(ByteBuffer.wrap(new byte[] {'\n'}));
            } catch (IOException e) {
                c.close();
                throw e;
            }
        }
        channel = c;
        openPath = file;
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the data that matters was forced before; a failed close loses nothing more
            }
        }
        channel = null;
        openPath = null;
    }

    @Override
    public synchronized void close() {
        closeChannel();
    }
}
