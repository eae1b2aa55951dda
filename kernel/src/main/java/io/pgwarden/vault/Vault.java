package io.pgwarden.vault;

import io.pgwarden.config.GatewayConfig;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.store.Migration;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credential vault (DESIGN §10) and the door to the encrypted store: {@link #open}
 * finds the master key, unlocks the keyring with it, opens the H2 file with the keyring's
 * file key, and then keeps named secrets in the store, each sealed with AES-GCM under the
 * keyring's data key and bound to its name.
 *
 * <p>A secret is decrypted by {@link #reveal} only when a login needs it, into a
 * {@link Secret} the caller wipes; nothing here logs or returns secret material in a message.
 */
public final class Vault implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Vault.class);
    /** The names {@code vault:NAME} may use (the configuration checks the same). */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,100}");
    /** H2 writes this at the start of a file it encrypts (FilePathEncrypt). */
    private static final byte[] H2_ENCRYPTED_HEADER = "H2encrypt\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_SECRET_BYTES = 64 << 10;

    private static final List<Migration> SCHEMA = List.of(new Migration(1, "vault secrets", List.of(
            "CREATE TABLE IF NOT EXISTS vault_secrets (name VARCHAR(100) PRIMARY KEY, sealed VARBINARY(65600) NOT NULL, "
                    + "created_at TIMESTAMP(6) WITH TIME ZONE NOT NULL, updated_at TIMESTAMP(6) WITH TIME ZONE NOT NULL)")));

    private final Store store;
    private final Keyring.Keys keys;

    private Vault(Store store, Keyring.Keys keys) {
        this.store = store;
        this.keys = keys;
    }

    /** A stored secret's name and dates; never its value. */
    public record Entry(String name, Instant created, Instant updated) {
    }

    /**
     * Unlocks the keyring and opens the store of {@code loaded}. On first use (no store, no
     * keyring) it creates both, and a master key file when {@code vault.key_file} is used
     * and absent. A store written before the vault existed (unencrypted, no keyring) is
     * encrypted in place.
     *
     * @param environment where {@code vault.key_env} is looked up
     * @throws VaultException when the master key is missing or is not the keyring's; then
     *                        nothing has been created or changed
     */
    public static Vault open(LoadedConfig loaded, Function<String, String> environment) throws VaultException, StoreException {
        String url = Store.resolveUrl(loaded.config().store().url(), loaded.baseDir());
        Path base = Store.fileBase(url);
        Path keyringFile = keyringFile(base);
        Path dbFile = base.resolveSibling(base.getFileName() + ".mv.db");
        Keyring.Keys keys;
        try (MasterKey master = masterKey(loaded, environment, Files.exists(keyringFile) || Files.exists(dbFile))) {
            if (Files.exists(keyringFile)) {
                keys = Keyring.unlock(keyringFile, master);
            } else if (Files.exists(dbFile)) {
                keys = encryptUnprotectedStore(dbFile, base, keyringFile, master);
            } else {
                keys = Keyring.create(keyringFile, master);
                LOG.info("vault: new keyring {} (master key id {})", keyringFile, master.id());
            }
        }
        char[] filePassword = keys.filePassword();
        try {
            Store store = Store.open(url, filePassword);
            try {
                store.migrate("vault", SCHEMA);
            } catch (StoreException e) {
                store.close();
                throw e;
            }
            return new Vault(store, keys);
        } catch (StoreException e) {
            keys.close();
            throw e;
        } finally {
            Arrays.fill(filePassword, '\0');
        }
    }

    /** Where the keyring of the store at {@code base} (the H2 file without .mv.db) lives. */
    public static Path keyringFile(Path base) {
        return base.resolveSibling(base.getFileName() + ".keyring");
    }

    /**
     * The master key as configured: {@code vault.key_env} when set, else {@code vault.key_file}
     * (created when nothing is protected yet).
     */
    static MasterKey masterKey(LoadedConfig loaded, Function<String, String> environment, boolean storeExists)
            throws VaultException {
        GatewayConfig.Vault v = loaded.config().vault();
        if (v.keyEnv() != null) {
            return MasterKey.fromEnvironment(v.keyEnv(), environment.apply(v.keyEnv()));
        }
        Path file = loaded.resolve(v.keyFile());
        if (Files.exists(file)) {
            return MasterKey.read(file, "vault.key_file");
        }
        if (storeExists) {
            throw new VaultException("vault.key_file: the master key file " + file + " does not exist, and the store "
                    + "next to it is already encrypted under a master key: restore the key file (or set vault.key_env). "
                    + "Nothing was changed.");
        }
        MasterKey created = MasterKey.generate("vault.key_file (" + file + ")");
        try {
            created.writeTo(file, false);
        } catch (VaultException raced) {
            created.close();
            if (Files.exists(file)) {
                return MasterKey.read(file, "vault.key_file"); // another process created it first
            }
            throw raced;
        }
        LOG.info("vault: generated a new master key in {} (key id {}); back it up: without it the store cannot be opened",
                file, created.id());
        return created;
    }

    /** A store from before the vault: give it a keyring and encrypt the file with H2's own tool. */
    private static Keyring.Keys encryptUnprotectedStore(Path dbFile, Path base, Path keyringFile, MasterKey master)
            throws VaultException {
        byte[] head = new byte[H2_ENCRYPTED_HEADER.length];
        try (InputStream in = Files.newInputStream(dbFile)) {
            in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new VaultException("cannot read the store " + dbFile + ": " + e.getMessage(), e);
        }
        if (Arrays.equals(head, H2_ENCRYPTED_HEADER)) {
            throw new VaultException("the store " + dbFile + " is encrypted but its keyring " + keyringFile
                    + " is missing: restore the keyring from the backup of the data directory. Nothing was changed.");
        }
        Keyring.Keys keys = Keyring.create(keyringFile, master);
        char[] password = keys.filePassword();
        try {
            org.h2.tools.ChangeFileEncryption.execute(base.getParent().toString(), base.getFileName().toString(), "AES",
                    null, password, true);
        } catch (SQLException e) {
            keys.close();
            try {
                Files.deleteIfExists(keyringFile);
            } catch (IOException ignored) {
                // the message below is what matters
            }
            throw new VaultException("cannot encrypt the existing store " + dbFile + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(password, '\0');
        }
        LOG.info("vault: encrypted the existing store {} (it was written before the vault) under keyring {}", dbFile, keyringFile);
        return keys;
    }

    /**
     * Replaces the master key: the keyring is re-wrapped under a new random key, written to
     * {@code newKeyFile} (the configured key file when null). The store is not touched, so
     * this works while a gateway runs: it keeps the unwrapped keys it already has.
     *
     * @return the new key's id
     */
    public static String rotateMasterKey(LoadedConfig loaded, Function<String, String> environment, Path newKeyFile)
            throws VaultException, StoreException {
        GatewayConfig.Vault v = loaded.config().vault();
        Path target = newKeyFile != null ? newKeyFile : v.keyEnv() == null ? loaded.resolve(v.keyFile()) : null;
        if (target == null) {
            throw new VaultException("the master key comes from the environment variable " + v.keyEnv()
                    + ": give --new-key-file FILE to receive the new key, then put it in " + v.keyEnv());
        }
        String url = Store.resolveUrl(loaded.config().store().url(), loaded.baseDir());
        Path keyringFile = keyringFile(Store.fileBase(url));
        if (!Files.exists(keyringFile)) {
            throw new VaultException("no keyring at " + keyringFile + ": the store has not been created yet");
        }
        boolean replacing = target.equals(v.keyEnv() == null ? loaded.resolve(v.keyFile()) : null);
        try (MasterKey current = masterKey(loaded, environment, true);
             MasterKey next = MasterKey.generate(target.toString())) {
            Keyring.rewrap(keyringFile, current, next, () -> next.writeTo(target, replacing));
            LOG.info("vault: master key {} replaced by {} in {}", current.id(), next.id(), target);
            return next.id();
        }
    }

    /** The store this vault unlocked; closing the vault closes it. */
    public Store store() {
        return store;
    }

    /** Stores (or replaces) a secret and zeroes {@code value}. */
    public void put(String name, byte[] value) throws VaultException {
        try {
            checkName(name);
            if (value.length == 0) {
                throw new VaultException("the secret for " + name + " is empty");
            }
            if (value.length > MAX_SECRET_BYTES) {
                throw new VaultException("the secret for " + name + " is longer than " + MAX_SECRET_BYTES + " bytes");
            }
            byte[] sealed = Aead.seal(keys.dataKey(), value, associatedData(name));
            try (Connection c = store.connect();
                 PreparedStatement p = c.prepareStatement("MERGE INTO vault_secrets t USING (VALUES (CAST(? AS VARCHAR(100)), "
                         + "CAST(? AS VARBINARY(65600)), CURRENT_TIMESTAMP)) s(name, sealed, now) ON t.name = s.name "
                         + "WHEN MATCHED THEN UPDATE SET sealed = s.sealed, updated_at = s.now "
                         + "WHEN NOT MATCHED THEN INSERT (name, sealed, created_at, updated_at) VALUES (s.name, s.sealed, s.now, s.now)")) {
                p.setString(1, name);
                p.setBytes(2, sealed);
                p.executeUpdate();
                store.sync(c);
            } catch (SQLException e) {
                throw new VaultException("cannot store the secret " + name + ": " + e.getMessage(), e);
            }
        } finally {
            Arrays.fill(value, (byte) 0);
        }
    }

    /** Names and dates, by name. */
    public List<Entry> list() throws VaultException {
        try (Connection c = store.connect();
             PreparedStatement p = c.prepareStatement("SELECT name, created_at, updated_at FROM vault_secrets ORDER BY name");
             ResultSet rs = p.executeQuery()) {
            List<Entry> entries = new ArrayList<>();
            while (rs.next()) {
                entries.add(new Entry(rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant(),
                        rs.getObject(3, OffsetDateTime.class).toInstant()));
            }
            return entries;
        } catch (SQLException e) {
            throw new VaultException("cannot list the vault: " + e.getMessage(), e);
        }
    }

    /** @return whether there was such a secret */
    public boolean delete(String name) throws VaultException {
        checkName(name);
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement("DELETE FROM vault_secrets WHERE name = ?")) {
            p.setString(1, name);
            boolean deleted = p.executeUpdate() > 0;
            store.sync(c);
            return deleted;
        } catch (SQLException e) {
            throw new VaultException("cannot delete the secret " + name + ": " + e.getMessage(), e);
        }
    }

    public boolean contains(String name) throws VaultException {
        return sealed(name) != null;
    }

    /** Decrypts a secret for one use; the caller closes (wipes) it. */
    public Secret reveal(String name) throws VaultException {
        byte[] sealed = sealed(name);
        if (sealed == null) {
            throw new VaultException("the vault holds no secret named " + name + " (store it with: pgwarden vault put " + name + ")");
        }
        return Secret.fromUtf8(Aead.open(keys.dataKey(), sealed, associatedData(name)));
    }

    private byte[] sealed(String name) throws VaultException {
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement("SELECT sealed FROM vault_secrets WHERE name = ?")) {
            p.setString(1, name);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        } catch (SQLException e) {
            throw new VaultException("cannot read the secret " + name + ": " + e.getMessage(), e);
        }
    }

    private static byte[] associatedData(String name) {
        return ("pgwarden vault v1 secret: " + name).getBytes(StandardCharsets.UTF_8);
    }

    private static void checkName(String name) throws VaultException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new VaultException("\"" + name + "\" is not a vault name (1 to 100 letters, digits, '_', '.', '-')");
        }
    }

    /** Closes the store and zeroes the keys. */
    @Override
    public void close() {
        try {
            store.close();
        } finally {
            keys.close();
        }
    }
}
