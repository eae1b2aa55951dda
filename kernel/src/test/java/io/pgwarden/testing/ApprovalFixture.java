package io.pgwarden.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * What the approval tests share: the agent {@value #DELETER}, whose policy {@code held}
 * holds statements for approval, and a way to run a statement that waits without blocking
 * the test.
 */
public final class ApprovalFixture {
    public static final String DELETER = "deleter";
    public static final String DELETER_KEY = "deleter-key-0123456789";

    private ApprovalFixture() {
    }

    /** For {@link TestGateway#yaml(io.pgwarden.devdb.LocalPostgres, TestGateway.Settings, String, String)}: the deleter's key (and more key lines). */
    public static String deleterKeys(String instanceName, String moreKeys) {
        return """
                  - type: static-keys
                    name: %s
                    keys:
                      - { name: %s, key_sha256: "%s", groups: [deleters] }
                %s""".formatted(instanceName, DELETER, TestGateway.sha256Hex(DELETER_KEY), moreKeys);
    }

    /** The policy of group deleters, with these {@code approve} rules (YAML list items, six spaces in). */
    public static String heldPolicy(String rules) {
        return """
                  - name: held
                    match: { groups: [deleters] }
                    upstream: app
                    approve:
                %s""".formatted(rules);
    }

    /** A pgjdbc connection through the gateway as {@code user}. */
    public static Connection connect(TestGateway gateway, String user, String key, Map<String, String> extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", key);
        p.setProperty("sslmode", "disable");
        p.setProperty("socketTimeout", "120");
        p.putAll(extra);
        return DriverManager.getConnection(gateway.jdbcUrl(), p);
    }

    /** The deleter in the simple protocol. */
    public static Connection deleter(TestGateway gateway) throws SQLException {
        return connect(gateway, DELETER, DELETER_KEY, Map.of("preferQueryMode", "simple"));
    }

    @FunctionalInterface
    public interface Call<T> {
        T call() throws Exception;
    }

    /** Runs a call that may wait for a decision on a thread of its own. */
    public static <T> CompletableFuture<T> inBackground(Call<T> call) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
    }
}
