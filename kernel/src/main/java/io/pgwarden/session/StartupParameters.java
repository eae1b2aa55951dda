package io.pgwarden.session;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which of a client's startup parameters travel on to the upstream. PostgreSQL accepts any
 * setting as a startup parameter (and inside {@code options}); those that change who the
 * session acts as would let an agent step outside the identity the gateway chose for it.
 */
final class StartupParameters {
    /** Set by the gateway itself, or meaningless upstream. */
    private static final Set<String> GATEWAY_OWNED = Set.of("user", "database", "replication");
    /** Settings that switch the session's role. */
    private static final Set<String> FORBIDDEN = Set.of("role", "session_authorization");
    private static final Pattern FORBIDDEN_IN_OPTIONS =
            Pattern.compile("(?i)(?:-c\\s*|--)(role|session_authorization)\\s*=");

    private StartupParameters() {
    }

    /** The name of the first parameter that may not pass, if any. */
    static Optional<String> forbidden(Map<String, String> client) {
        for (Map.Entry<String, String> e : client.entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (FORBIDDEN.contains(name)) {
                return Optional.of(e.getKey());
            }
            if (name.equals("options") && FORBIDDEN_IN_OPTIONS.matcher(e.getValue()).find()) {
                return Optional.of("options");
            }
        }
        return Optional.empty();
    }

    static Map<String, String> forUpstream(Map<String, String> client) {
        Map<String, String> out = new LinkedHashMap<>();
        client.forEach((name, value) -> {
            // _pq_.* are protocol extensions for the server we speak to, i.e. the gateway.
            if (!GATEWAY_OWNED.contains(name) && !name.startsWith("_pq_.")) {
                out.put(name, value);
            }
        });
        return out;
    }

    static boolean isReplication(Map<String, String> client) {
        String value = client.get("replication");
        return value != null && !Set.of("false", "off", "no", "0").contains(value.toLowerCase(Locale.ROOT));
    }
}
