package io.pgwarden.testing;

import io.pgwarden.devdb.LocalPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * The PostgreSQL server the integration tests share: started once per test JVM, stopped
 * when it exits. Roles for each upstream authentication method exist beside the SCRAM
 * superuser: {@code md5_user}, {@code password_user} (cleartext) and {@code trust_user}.
 * Tests that break the server (killing it) start their own with {@link #startPrivate}.
 */
public final class TestPostgres {
    public static final String DATABASE = "app";
    public static final String MD5_USER = "md5_user";
    public static final String CLEARTEXT_USER = "password_user";
    public static final String TRUST_USER = "trust_user";
    /** Password of the method-specific roles above. */
    public static final String ROLE_PASSWORD = "role-secret-1";

    private static LocalPostgres shared;

    private TestPostgres() {
    }

    /**
     * Polls pg_stat_activity on the server itself until a statement containing
     * {@code queryFragment} is running, so a test can act on a query in flight (cancel it,
     * kill its backend) without guessing with sleeps.
     */
    public static void awaitActiveQuery(LocalPostgres pg, String queryFragment) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        try (java.sql.Connection direct = java.sql.DriverManager.getConnection(pg.jdbcUrl(DATABASE), pg.superuser(), pg.password());
             java.sql.PreparedStatement ps = direct.prepareStatement("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE state = 'active' AND query LIKE ? AND pid <> pg_backend_pid()")) {
            ps.setString(1, "%" + queryFragment + "%");
            while (System.nanoTime() < deadline) {
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(20);
            }
        }
        throw new AssertionError("no statement containing " + queryFragment + " became active upstream within 30s");
    }

    public static synchronized LocalPostgres shared() {
        if (shared == null) {
            shared = startPrivate(Map.of());
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
        }
        return shared;
    }

    /** A server of one's own, with the same roles and database; the caller closes it. */
    public static LocalPostgres startPrivate(Map<String, String> settings) {
        try {
            LocalPostgres pg = LocalPostgres.start(LocalPostgres.Options.defaults()
                    .withSettings(Map.of("max_connections", "700", "fsync", "off", "synchronous_commit", "off",
                            "shared_buffers", "'64MB'"))
                    .withSettings(settings)
                    .withHbaLines(List.of(
                            "host all " + MD5_USER + " 127.0.0.1/32 md5",
                            "host all " + CLEARTEXT_USER + " 127.0.0.1/32 password",
                            "host all " + TRUST_USER + " 127.0.0.1/32 trust")));
            pg.sql("postgres", "CREATE DATABASE " + DATABASE + ";");
            // md5 needs an MD5-hashed password; the server default here is SCRAM.
            pg.sql(DATABASE, """
                    SET password_encryption = 'md5';
                    CREATE ROLE %1$s LOGIN SUPERUSER PASSWORD '%4$s';
                    RESET password_encryption;
                    CREATE ROLE %2$s LOGIN SUPERUSER PASSWORD '%4$s';
                    CREATE ROLE %3$s LOGIN SUPERUSER;
                    CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2));
                    INSERT INTO items SELECT i, 'item ' || i, i * 1.5 FROM generate_series(1, 100) i;
                    """.formatted(MD5_USER, CLEARTEXT_USER, TRUST_USER, ROLE_PASSWORD));
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the test PostgreSQL", e);
        }
    }
}
