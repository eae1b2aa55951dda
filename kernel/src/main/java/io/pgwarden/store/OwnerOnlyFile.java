package io.pgwarden.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes the gateway's small secret files (the vault's master key and keyring, the admin
 * credential): readable by their owner
 * only from the first byte, forced to the disk, and appearing complete or not at all (written
 * beside, then moved or linked into place).
 */
public final class OwnerOnlyFile {
    private OwnerOnlyFile() {
    }

    /**
     * @param replace replace an existing file; otherwise an existing one is never touched and
     *                {@link java.nio.file.FileAlreadyExistsException} is thrown (two processes
     *                creating the file at once cannot both win)
     */
    public static void write(Path file, byte[] content, boolean replace) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + file.getFileName() + "-", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(temp, content);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            if (replace) {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.createLink(file, temp);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
