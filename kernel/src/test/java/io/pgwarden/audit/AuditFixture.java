package io.pgwarden.audit;

import io.pgwarden.store.Store;
import io.pgwarden.store.StoreException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A store in a temporary folder and an audit log on it, for the audit tests. */
final class AuditFixture {
    static final Duration WAIT = Duration.ofSeconds(30);

    private AuditFixture() {
    }

    /**
     * The audit tests' own store file password. The gateway takes its password from the
     * vault's keyring; these tests exercise the store beneath the vault.
     */
    private static final String FILE_PASSWORD = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /** Opens (creating) the encrypted store at {@code url} with the tests' file password. */
    static Store store(String url) throws StoreException {
        return Store.open(url, FILE_PASSWORD.toCharArray());
    }

    static String url(Path dir) {
        return "jdbc:h2:file:" + dir.resolve("store");
    }

    static AuditLog.Settings settings() {
        return new AuditLog.Settings("gw-test", false, 20_000, true,
                new AuditOutbox.Backoff(Duration.ofMillis(10), Duration.ofMillis(200)));
    }

    static AuditLog open(Store store) throws StoreException {
        return AuditLog.open(store, settings(), List.of(), Clock.systemUTC());
    }

    static SessionContext session(String id, String identity) {
        return new SessionContext(id, identity, "static-keys", List.of("testers", "agents"), "127.0.0.1", "app", "app");
    }

    static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
}
