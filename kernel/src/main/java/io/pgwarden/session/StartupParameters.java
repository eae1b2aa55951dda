package io.pgwarden.session;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
    /** The postgres switches that take an argument (getopt string in PostgreSQL's process_postgres_switches). */
    private static final String SWITCHES_WITH_ARGUMENT = "BCcDdfhkNprStvW-";

    private StartupParameters() {
    }

    /** The name of the first parameter that may not pass, if any. */
    static Optional<String> forbidden(Map<String, String> client) {
        for (Map.Entry<String, String> e : client.entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (FORBIDDEN.contains(name)) {
                return Optional.of(e.getKey());
            }
            if (name.equals("options") && settingsInOptions(e.getValue()).stream().anyMatch(FORBIDDEN::contains)) {
                return Optional.of("options");
            }
        }
        return Optional.empty();
    }

    /**
     * The names of the settings an {@code options} value sets, read the way the server reads
     * it: split at unescaped white space with backslash escapes (pg_split_opts in
     * src/backend/utils/init/postinit.c), then getopt, where {@code -c NAME=VALUE}, {@code
     * -cNAME=VALUE}, {@code --NAME=VALUE} and switches bundled before c ({@code -Ec...}) all
     * set NAME, with '-' read as '_' (ParseLongOption) and case ignored (GUC names). A plain
     * pattern match misses {@code -c rol\e=x} and {@code -Ecrole=x}, which PostgreSQL applies.
     */
    static List<String> settingsInOptions(String options) {
        List<String> tokens = splitOptions(options);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (t.length() < 2 || t.charAt(0) != '-') {
                continue;
            }
            for (int j = 1; j < t.length(); j++) {
                char sw = t.charAt(j);
                if (SWITCHES_WITH_ARGUMENT.indexOf(sw) < 0) {
                    continue;
                }
                String argument = j + 1 < t.length() ? t.substring(j + 1) : i + 1 < tokens.size() ? tokens.get(++i) : "";
                if (sw == 'c' || sw == '-') {
                    int eq = argument.indexOf('=');
                    names.add((eq < 0 ? argument : argument.substring(0, eq)).replace('-', '_').toLowerCase(Locale.ROOT));
                }
                break;
            }
        }
        return names;
    }

    private static List<String> splitOptions(String options) {
        List<String> tokens = new ArrayList<>();
        StringBuilder token = new StringBuilder();
        boolean escaped = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (!escaped && Character.isWhitespace(c)) {
                if (!token.isEmpty()) {
                    tokens.add(token.toString());
                    token.setLength(0);
                }
            } else if (!escaped && c == '\\') {
                escaped = true;
            } else {
                escaped = false;
                token.append(c);
            }
        }
        if (!token.isEmpty()) {
            tokens.add(token.toString());
        }
        return tokens;
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
