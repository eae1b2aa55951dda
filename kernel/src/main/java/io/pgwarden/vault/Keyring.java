package io.pgwarden.vault;

import io.pgwarden.store.OwnerOnlyFile;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * The two random 256-bit keys that protect the store, each wrapped (AES-GCM) by the master
 * key, in a small JSON file beside the H2 file ({@code pgwarden.keyring} beside
 * {@code pgwarden.mv.db}):
 * <ul>
 * <li>the <b>file key</b>, from which H2's {@code CIPHER=AES} file password is made. H2
 *     derives its XTS key from that password weakly and checks no integrity (DESIGN §3), so
 *     the password must be random, never a human's;</li>
 * <li>the <b>data key</b>, which encrypts each stored secret again with AES-GCM.</li>
 * </ul>
 * The keyring lives outside the H2 file because it is needed to open it, and so that a new
 * master key rewrites only this file: the store itself is never re-encrypted.
 *
 * <p>While a new master key is being installed the file holds the keys wrapped under both
 * the old and the new key, so a crash at any point leaves it readable with whichever key
 * file survived.
 */
public final class Keyring {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FORMAT = "pgwarden-keyring";
    private static final String FILE_KEY = "pgwarden keyring v1: store file key";
    private static final String DATA_KEY = "pgwarden keyring v1: secret data key";

    private Keyring() {
    }

    /** The unwrapped keys; {@link #close} zeroes them. */
    public static final class Keys implements AutoCloseable {
        private final byte[] fileKey;
        private final byte[] dataKey;

        Keys(byte[] fileKey, byte[] dataKey) {
            this.fileKey = fileKey;
            this.dataKey = dataKey;
        }

        /** H2's file password: the file key in hex (64 characters, 256 bits of entropy). */
        public char[] filePassword() {
            return HexFormat.of().formatHex(fileKey).toCharArray();
        }

        byte[] dataKey() {
            return dataKey;
        }

        @Override
        public void close() {
            Arrays.fill(fileKey, (byte) 0);
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    record Wrap(@JsonProperty("key_id") String keyId, @JsonProperty("file_key") String fileKey,
                @JsonProperty("data_key") String dataKey) {
    }

    record Document(String format, int version, List<Wrap> wraps) {
    }

    /** Makes new keys and writes them wrapped under {@code master}; fails if the file exists. */
    public static Keys create(Path file, MasterKey master) throws VaultException {
        Keys keys = new Keys(Aead.randomKey(), Aead.randomKey());
        write(file, List.of(wrap(keys, master)), false);
        return keys;
    }

    /**
     * @throws VaultException naming the key ids when {@code master} is not the key the
     *                        keyring was wrapped with
     */
    public static Keys unlock(Path file, MasterKey master) throws VaultException {
        Document doc = read(file);
        String id = master.id();
        for (Wrap w : doc.wraps()) {
            if (w.keyId().equals(id)) {
                byte[] fileKey = master.unwrap(decode(w.fileKey()), FILE_KEY);
                byte[] dataKey;
                try {
                    dataKey = master.unwrap(decode(w.dataKey()), DATA_KEY);
                } catch (VaultException e) {
                    Arrays.fill(fileKey, (byte) 0);
                    throw new VaultException("the keyring " + file + " is damaged: " + e.getMessage());
                }
                return new Keys(fileKey, dataKey);
            }
        }
        throw new VaultException("the master key from " + master.source() + " (key id " + id + ") is not the key that "
                + "protects " + file + " (key id " + String.join(" or ", doc.wraps().stream().map(Wrap::keyId).toList())
                + "); give the right key (vault.key_file or vault.key_env). Nothing was changed.");
    }

    /**
     * Re-wraps the keys under {@code next}: first under both keys, then {@code installKey}
     * puts the new master key in place, then the old wrapping is removed.
     */
    public static void rewrap(Path file, MasterKey current, MasterKey next, KeyInstaller installKey) throws VaultException {
        try (Keys keys = unlock(file, current)) {
            write(file, List.of(wrap(keys, current), wrap(keys, next)), true);
            installKey.install();
            write(file, List.of(wrap(keys, next)), true);
        }
    }

    /** Puts a new master key where the gateway will read it. */
    @FunctionalInterface
    public interface KeyInstaller {
        void install() throws VaultException;
    }

    private static Wrap wrap(Keys keys, MasterKey master) {
        Base64.Encoder b64 = Base64.getEncoder();
        return new Wrap(master.id(), b64.encodeToString(master.wrap(keys.fileKey, FILE_KEY)),
                b64.encodeToString(master.wrap(keys.dataKey, DATA_KEY)));
    }

    private static byte[] decode(String b64) throws VaultException {
        try {
            return Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new VaultException("a keyring entry is not base64");
        }
    }

    private static Document read(Path file) throws VaultException {
        Document doc;
        try {
            doc = JSON.readValue(file.toFile(), Document.class);
        } catch (IOException e) {
            throw new VaultException("cannot read the keyring " + file + ": " + e.getMessage(), e);
        }
        if (doc == null || !FORMAT.equals(doc.format()) || doc.version() != 1 || doc.wraps() == null || doc.wraps().isEmpty()) {
            throw new VaultException("the keyring " + file + " is not a pgwarden keyring of version 1");
        }
        return doc;
    }

    private static void write(Path file, List<Wrap> wraps, boolean replace) throws VaultException {
        try {
            OwnerOnlyFile.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(
                    new Document(FORMAT, 1, new ArrayList<>(wraps))), replace);
        } catch (FileAlreadyExistsException e) {
            throw new VaultException("the keyring " + file + " already exists");
        } catch (IOException e) {
            throw new VaultException("cannot write the keyring " + file + ": " + e.getMessage(), e);
        }
    }
}
