package io.pgwarden.admin;

import io.pgwarden.store.Migration;
import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The admin page's local users (admins and approvers who log in with a password): names and
 * Argon2id hashes in the store. The first is made with {@code pgwarden admin create-user}.
 */
public final class AdminUsers {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,100}");
    static final int MIN_PASSWORD = 12;
    private static final List<Migration> SCHEMA = List.of(new Migration(1, "admin users", List.of("""
            CREATE TABLE IF NOT EXISTS admin_user (
                name          VARCHAR(100) PRIMARY KEY,
                password_hash VARCHAR(200) NOT NULL,
                created_at    TIMESTAMP(6) WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP)""")));
    /** Checked when the name is unknown, so a miss costs what a hit does (no user enumeration by timing). */
    private static final String DUMMY = PasswordHash.hash("not a password of anyone".toCharArray());

    private final Store store;

    public AdminUsers(Store store) throws StoreException {
        this.store = store;
        store.migrate("admin_users", SCHEMA);
    }

    /**
     * Adds a user, or sets the password of an existing one.
     *
     * @throws IllegalArgumentException naming what is wrong with the name or password (for the operator)
     */
    public void createOrUpdate(String name, char[] password) throws StoreException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a user name is 1 to 100 letters, digits, '.', '_', '@' or '-'");
        }
        if (password.length < MIN_PASSWORD) {
            throw new IllegalArgumentException("the password must have at least " + MIN_PASSWORD + " characters");
        }
        String hash = PasswordHash.hash(password);
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement(
                "MERGE INTO admin_user (name, password_hash) KEY (name) VALUES (?, ?)")) {
            p.setString(1, name);
            p.setString(2, hash);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot store admin user " + name + ": " + e.getMessage(), e);
        }
    }

    /** Whether the name and password belong to a user. */
    public boolean check(String name, char[] password) throws StoreException {
        String stored = null;
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement(
                "SELECT password_hash FROM admin_user WHERE name = ?")) {
            p.setString(1, name);
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next()) {
                    stored = rs.getString(1);
                }
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read admin users: " + e.getMessage(), e);
        }
        boolean ok = PasswordHash.verify(password, stored != null ? stored : DUMMY);
        return stored != null && ok;
    }

    public boolean any() throws StoreException {
        try (Connection c = store.connect(); PreparedStatement p = c.prepareStatement("SELECT 1 FROM admin_user LIMIT 1");
             ResultSet rs = p.executeQuery()) {
            return rs.next();
        } catch (SQLException e) {
            throw new StoreException("cannot read admin users: " + e.getMessage(), e);
        }
    }
}
