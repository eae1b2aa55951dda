package io.pgwarden.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.config.GatewayConfig.Upstream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The planner's row estimate for {@code estimated_rows_over} rules: {@code EXPLAIN (FORMAT
 * JSON)} of each statement on a connection of the gateway's own (never the agent's session,
 * which is busy and whose transaction state must not change). EXPLAIN without ANALYZE runs
 * nothing; the statement goes through the extended protocol, which refuses a second
 * statement in the text, in a read-only transaction that is rolled back. Blocking: call it
 * off the event loops.
 */
public final class RowEstimator {
    private static final Logger LOG = LoggerFactory.getLogger(RowEstimator.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Upstream> upstreams;
    private final Function<String, String> passwords;
    private final Function<Path, Path> resolve;

    /**
     * @param passwords the gateway's password for an upstream, by upstream name
     * @param resolve   resolves paths of the configuration (tls_root_cert)
     */
    public RowEstimator(List<Upstream> upstreams, Function<String, String> passwords, Function<Path, Path> resolve) {
        this.upstreams = upstreams.stream().collect(java.util.stream.Collectors.toUnmodifiableMap(Upstream::name, u -> u));
        this.passwords = passwords;
        this.resolve = resolve;
    }

    /**
     * The largest row count any plan node of the statements expects (a DELETE's top node
     * returns no rows; the scan below it names how many it will touch); empty when a
     * statement cannot be explained (parameters, utility statements, an error).
     */
    public OptionalLong estimate(String upstreamName, List<String> statements) {
        Upstream u = upstreams.get(upstreamName);
        if (u == null) {
            return OptionalLong.empty();
        }
        long max = 0;
        try (Connection c = DriverManager.getConnection(url(u), properties(u))) {
            c.setAutoCommit(false);
            c.setReadOnly(true);
            try {
                for (String sql : statements) {
                    try (PreparedStatement p = c.prepareStatement("EXPLAIN (FORMAT JSON) " + sql); ResultSet rs = p.executeQuery()) {
                        if (!rs.next()) {
                            return OptionalLong.empty();
                        }
                        max = Math.max(max, maxPlanRows(JSON.readTree(rs.getString(1))));
                    }
                }
            } finally {
                c.rollback();
            }
            return OptionalLong.of(max);
        } catch (SQLException | java.io.IOException e) {
            LOG.info("approval row estimate on upstream {} failed ({}); counted as over the limit", upstreamName, e.getMessage());
            return OptionalLong.empty();
        }
    }

    private static long maxPlanRows(JsonNode node) {
        long max = 0;
        if (node.isObject() && node.has("Plan Rows")) {
            max = node.get("Plan Rows").asLong();
        }
        for (JsonNode child : node) {
            max = Math.max(max, maxPlanRows(child));
        }
        return max;
    }

    private static String url(Upstream u) {
        String host = u.host().startsWith("/") ? "localhost" : u.host().contains(":") ? "[" + u.host() + "]" : u.host();
        return "jdbc:postgresql://" + host + ":" + u.port() + "/" + java.net.URLEncoder.encode(u.database(),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    private Properties properties(Upstream u) {
        Properties p = new Properties();
        p.setProperty("user", u.credential().user());
        String password = passwords.apply(u.name());
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("ApplicationName", "pgwarden approval estimate");
        p.setProperty("connectTimeout", Long.toString(Math.max(1, u.connectTimeout().toSeconds())));
        p.setProperty("socketTimeout", "30");
        p.setProperty("sslmode", switch (u.tls()) {
            case DISABLE -> "disable";
            case PREFER -> "prefer";
            case REQUIRE -> "require";
            case VERIFY_FULL -> "verify-full";
        });
        if (u.tlsRootCert() != null) {
            p.setProperty("sslrootcert", resolve.apply(u.tlsRootCert()).toString());
        }
        return p;
    }
}
