package io.pgwarden.vault;

import io.pgwarden.store.OwnerOnlyFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * The vault's master key: 256 random bits, kept outside the configuration and outside the
 * store (a file of its own, or an environment variable), written as one line of base64. It
 * never encrypts data itself: it only wraps the keyring's keys ({@link Keyring}), so that
 * replacing it ({@code vault rotate-key}) rewrites one small file.
 */
public final class MasterKey implements AutoCloseable {
    private final byte[] key;
    private final String source;

    private MasterKey(byte[] key, String source) {
        this.key = key;
        this.source = source;
    }

    /** A new random key; {@code source} says where it will be kept, for messages. */
    public static MasterKey generate(String source) {
        return new MasterKey(Aead.randomKey(), source);
    }

    /** Reads a key file written by {@link #writeNew} (or by an operator: 32 bytes in base64). */
    public static MasterKey read(Path file, String configKey) throws VaultException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new VaultException(configKey + ": the master key file " + file + " does not exist");
        } catch (IOException e) {
            throw new VaultException(configKey + ": cannot read the master key file " + file + ": " + e.getMessage(), e);
        }
        return parse(text, configKey + " (" + file + ")");
    }

    /** A key given in base64 by an environment variable. */
    public static MasterKey fromEnvironment(String variable, String value) throws VaultException {
        if (value == null || value.isBlank()) {
            throw new VaultException("vault.key_env: the environment variable " + variable + " is not set");
        }
        return parse(value, "vault.key_env (environment variable " + variable + ")");
    }

    private static MasterKey parse(String text, String source) throws VaultException {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new VaultException(source + ": the master key is not base64");
        }
        if (key.length != Aead.KEY_BYTES) {
            Arrays.fill(key, (byte) 0);
            throw new VaultException(source + ": a master key is " + Aead.KEY_BYTES + " bytes (44 characters of base64), this is "
                    + key.length);
        }
        return new MasterKey(key, source);
    }

    /**
     * Writes the key to a file readable by its owner only ({@link OwnerOnlyFile}); an
     * existing file is never replaced unless {@code replace} is set.
     */
    public void writeTo(Path file, boolean replace) throws VaultException {
        byte[] line = (Base64.getEncoder().encodeToString(key) + "\n").getBytes(StandardCharsets.US_ASCII);
        try {
            OwnerOnlyFile.write(file, line, replace);
        } catch (FileAlreadyExistsException e) {
            throw new VaultException("the master key file " + file + " already exists");
        } catch (IOException e) {
            throw new VaultException("cannot write the master key file " + file + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(line, (byte) 0);
        }
    }

    /**
     * A short, public name for this key (an HMAC of a constant, not the key): the keyring
     * records which key wrapped it, so a wrong key is told apart from a damaged file.
     */
    public String id() {
        HMac mac = new HMac(new SHA256Digest());
        mac.init(new KeyParameter(key));
        byte[] label = "pgwarden vault master key id".getBytes(StandardCharsets.US_ASCII);
        mac.update(label, 0, label.length);
        byte[] out = new byte[mac.getMacSize()];
        mac.doFinal(out, 0);
        return HexFormat.of().formatHex(out, 0, 8);
    }

    /** Where the key came from, for messages. */
    public String source() {
        return source;
    }

    byte[] wrap(byte[] plaintext, String purpose) {
        return Aead.seal(key, plaintext, purpose.getBytes(StandardCharsets.US_ASCII));
    }

    byte[] unwrap(byte[] sealed, String purpose) throws VaultException {
        return Aead.open(key, sealed, purpose.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void close() {
        Arrays.fill(key, (byte) 0);
    }

    @Override
    public String toString() {
        return "MasterKey[" + id() + " from " + source + "]";
    }
}
