package io.pgwarden.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's state store (DESIGN §9): an embedded H2 database file. Components (audit,
 * later approvals and recordings) keep their tables here, each with a versioned schema
 * ({@link #migrate}). One connection stays open for the store's lifetime so the database
 * stays open between the components' own connections.
 *
 * <p>The file is encrypted ({@code CIPHER=AES}) with a file password that the caller gets
 * from the vault's keyring ({@code io.pgwarden.vault}); the store never reads it from the
 * configuration.
 *
 * <p>Durability: H2 normally writes committed changes to the file up to a second later
 * ({@code WRITE_DELAY}); the store sets it to 0, so every commit is in the file (the
 * operating system's cache) when it returns and survives the process being killed. Forcing
 * it to the disk as well ({@link #sync}) is the caller's choice per commit.
 */
public final class Store implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Store.class);
    private static final String USER = "pgwarden";
    /**
     * Databases open in this process. H2 lets a second connection into a file that this JVM
     * already has open, so two gateways in one process would write one audit chain from two
     * writers and break it; refusing is the only safe answer.
     */
    private static final Set<String> OPEN = ConcurrentHashMap.newKeySet();

    private final String url;
    private final String displayName;
    private final Connection keeper;
    private final String id;
    /** H2's password: the file password, a space, and the (empty) user password. */
    private final char[] password;

    private Store(String url, String displayName, Connection keeper, String id, char[] password) {
        this.url = url;
        this.displayName = displayName;
        this.keeper = keeper;
        this.id = id;
        this.password = password;
    }

    /**
     * Turns {@code store.url} into the URL to open: a relative file path is resolved against
     * {@code baseDir} (the configuration file's folder), like every other path in the file.
     *
     * @throws StoreException for a URL this version cannot use
     */
    public static String resolveUrl(String url, Path baseDir) throws StoreException {
        String lower = url.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("jdbc:h2:")) {
            throw new StoreException("store.url: \"" + url + "\": this version keeps its state in an embedded H2 file "
                    + "(jdbc:h2:file:PATH); a shared PostgreSQL store is not available yet");
        }
        String rest = url.substring("jdbc:h2:".length());
        String restLower = rest.toLowerCase(Locale.ROOT);
        if (restLower.startsWith("mem:")) {
            throw new StoreException("store.url: \"" + url + "\": an in-memory database loses the audit trail when the "
                    + "gateway stops; use jdbc:h2:file:PATH");
        }
        if (restLower.startsWith("tcp:") || restLower.startsWith("ssl:")) {
            throw new StoreException("store.url: \"" + url + "\": the gateway encrypts its store and keeps the keyring "
                    + "beside the file, so it needs a local file: use jdbc:h2:file:PATH");
        }
        if (restLower.contains(";cipher=")) {
            throw new StoreException("store.url: \"" + url + "\": leave CIPHER out; the gateway always encrypts the store "
                    + "(AES, with a random key from its vault)");
        }
        String prefix = "jdbc:h2:";
        if (restLower.startsWith("file:")) {
            prefix = "jdbc:h2:file:";
            rest = rest.substring("file:".length());
        } else if (restLower.matches("^[a-z]{2,}:.*")) {
            throw new StoreException("store.url: \"" + url + "\": use jdbc:h2:file:PATH");
        }
        int semicolon = rest.indexOf(';');
        String file = semicolon < 0 ? rest : rest.substring(0, semicolon);
        String settings = semicolon < 0 ? "" : rest.substring(semicolon);
        if (file.isBlank()) {
            throw new StoreException("store.url: \"" + url + "\" names no file");
        }
        if (file.startsWith("~")) {
            return prefix + file + settings;
        }
        return "jdbc:h2:file:" + baseDir.resolve(file).toAbsolutePath().normalize() + settings;
    }

    /**
     * Opens (creating when absent) the encrypted database at a URL from {@link #resolveUrl}.
     *
     * @param filePassword H2's file password (a copy is kept while the store is open, for
     *                     new connections, and zeroed at {@link #close})
     */
    public static Store open(String url, char[] filePassword) throws StoreException {
        String key = fileKey(url);
        if (!OPEN.add(key)) {
            throw new StoreException("store.url: " + url + " is already open in this process");
        }
        String full = url + ";CIPHER=AES"
                + (url.toLowerCase(Locale.ROOT).contains(";db_close_on_exit=") ? "" : ";DB_CLOSE_ON_EXIT=FALSE");
        char[] password = new char[filePassword.length + 1];
        System.arraycopy(filePassword, 0, password, 0, filePassword.length);
        password[filePassword.length] = ' ';
        Connection keeper = null;
        try {
            // The gateway closes the store itself at shutdown, after the audit writer has
            // drained; H2's own shutdown hook would close it under the writer's feet.
            keeper = DriverManager.getConnection(full, properties(password));
            try (Statement s = keeper.createStatement()) {
                s.execute("SET WRITE_DELAY 0");
                s.execute("CREATE TABLE IF NOT EXISTS store_info (id VARCHAR(64) NOT NULL, "
                        + "created_at TIMESTAMP(6) WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP)");
                s.execute("CREATE TABLE IF NOT EXISTS schema_version (component VARCHAR(64) PRIMARY KEY, "
                        + "version INT NOT NULL, description VARCHAR(1000) NOT NULL, "
                        + "applied_at TIMESTAMP(6) WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP)");
            }
            String id = storeId(keeper);
            Store store = new Store(full, url, keeper, id, password);
            LOG.info("state store {} opened (store id {})", url, id);
            return store;
        } catch (SQLException e) {
            OPEN.remove(key);
            closeQuietly(keeper);
            java.util.Arrays.fill(password, '\0');
            throw new StoreException("store.url: cannot open " + url + ": " + describe(e), e);
        }
    }

    /** H2 clears a char[] password it is given, so each connection gets a copy. */
    private static java.util.Properties properties(char[] password) {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", USER);
        p.put("password", password.clone());
        return p;
    }

    /** The database a URL names, whatever settings follow it: the key of {@link #OPEN}. */
    private static String fileKey(String url) {
        int semicolon = url.indexOf(';');
        return (semicolon < 0 ? url : url.substring(0, semicolon)).toLowerCase(Locale.ROOT);
    }

    /** A random id made when the store was created: event ids built on it never repeat across stores. */
    private static String storeId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM store_info")) {
            if (rs.next()) {
                return rs.getString(1);
            }
        }
        String id = UUID.randomUUID().toString();
        try (PreparedStatement p = c.prepareStatement("INSERT INTO store_info (id) VALUES (?)")) {
            p.setString(1, id);
            p.executeUpdate();
        }
        return id;
    }

    private static String describe(SQLException e) {
        // H2's "Database may be already in use" (90020): another process holds the file.
        if (e.getErrorCode() == 90020) {
            return "the database file is in use by another process (is another gateway running with this store?)";
        }
        // 90049: "Encryption error in file": the file password (from the keyring) is not this file's.
        if (e.getErrorCode() == 90049) {
            return "the file does not open with the key in its keyring (was the keyring replaced, or the file copied from another store?)";
        }
        String message = e.getMessage();
        int newline = message == null ? -1 : message.indexOf('\n');
        return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
    }

    /** The store's id, made once when the file was created. */
    public String id() {
        return id;
    }

    /** The URL as configured and resolved, for log lines. */
    public String displayName() {
        return displayName;
    }

    /**
     * The path that files kept beside the database start with (the database file without
     * H2's {@code .mv.db}), e.g. for the audit journal; empty for a store reached over the
     * network ({@code jdbc:h2:tcp:}), which has no folder of ours.
     */
    public java.util.Optional<Path> localBase() {
        return java.util.Optional.of(fileBase(displayName));
    }

    /**
     * The database file without H2's {@code .mv.db}, for a URL from {@link #resolveUrl}:
     * where the files that belong with the store (its keyring, the audit journal) are kept.
     */
    public static Path fileBase(String resolvedUrl) {
        String lower = resolvedUrl.toLowerCase(Locale.ROOT);
        String rest = lower.startsWith("jdbc:h2:file:") ? resolvedUrl.substring("jdbc:h2:file:".length())
                : resolvedUrl.substring("jdbc:h2:".length());
        String file = rest.split(";", 2)[0];
        if (file.startsWith("~")) {
            file = System.getProperty("user.home") + file.substring(1);
        }
        return Path.of(file).toAbsolutePath().normalize();
    }

    /** A new connection with auto-commit on; the caller closes it. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url, properties(password));
    }

    /**
     * Brings {@code component}'s tables to the newest of {@code steps}, applying the steps
     * above the version recorded in {@code schema_version}, in order.
     *
     * @throws StoreException when a step fails, or the store was written by a newer version
     */
    public synchronized void migrate(String component, List<Migration> steps) throws StoreException {
        int newest = steps.isEmpty() ? 0 : steps.getLast().version();
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).version() != i + 1) {
                throw new IllegalArgumentException(component + ": migration versions must be 1, 2, 3, … in order");
            }
        }
        try (Connection c = connect()) {
            int current = 0;
            try (PreparedStatement p = c.prepareStatement("SELECT version FROM schema_version WHERE component = ?")) {
                p.setString(1, component);
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        current = rs.getInt(1);
                    }
                }
            }
            if (current > newest) {
                throw new StoreException("store " + displayName + ": the " + component + " tables are at schema version "
                        + current + ", written by a newer pgwarden; this version knows up to " + newest);
            }
            for (Migration step : steps.subList(current, steps.size())) {
                try (Statement s = c.createStatement()) {
                    for (String sql : step.statements()) {
                        s.execute(sql);
                    }
                }
                try (PreparedStatement p = c.prepareStatement(
                        "MERGE INTO schema_version (component, version, description, applied_at) KEY (component) "
                                + "VALUES (?, ?, ?, CURRENT_TIMESTAMP)")) {
                    p.setString(1, component);
                    p.setInt(2, step.version());
                    p.setString(3, step.description());
                    p.executeUpdate();
                }
                LOG.info("store: {} schema now at version {} ({})", component, step.version(), step.description());
            }
        } catch (SQLException e) {
            throw new StoreException("store " + displayName + ": cannot update the " + component + " tables: " + describe(e), e);
        }
    }

    /**
     * Forces everything committed so far to the disk (H2's {@code CHECKPOINT SYNC}): after it,
     * a power failure loses nothing that was committed.
     */
    public void sync(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
        }
    }

    @Override
    public void close() {
        try (Statement s = keeper.createStatement()) {
            s.execute("SHUTDOWN");
        } catch (SQLException e) {
            LOG.warn("store {}: shutdown: {}", displayName, describe(e));
        } finally {
            closeQuietly(keeper);
            java.util.Arrays.fill(password, '\0');
            OPEN.remove(fileKey(displayName));
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing after a failure: the first error is the one reported
            }
        }
    }
}
