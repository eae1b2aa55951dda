package io.pgwarden.admin;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Logged-in people of the admin page: a random session id in an HttpOnly, SameSite=Strict
 * cookie, and per session a random CSRF token that every changing request must echo in a
 * header (a cookie alone, which a browser attaches to any site's request, proves nothing).
 * In memory: a gateway restart logs everyone out.
 */
final class BrowserSessions {
    static final String COOKIE = "pgwarden_session";
    /** An unused session ends after this; a used one lives at most {@link #MAX_AGE}. */
    static final Duration IDLE = Duration.ofMinutes(30);
    static final Duration MAX_AGE = Duration.ofHours(12);
    private static final SecureRandom RANDOM = new SecureRandom();

    record Login(String user, String via, String csrf, Instant started, Instant lastUsed) {
    }

    private final Map<String, Login> sessions = new ConcurrentHashMap<>();
    private final Clock clock;

    BrowserSessions(Clock clock) {
        this.clock = clock;
    }

    static String token() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** @param via how the person logged in: {@code password} or the OIDC issuer */
    String open(String user, String via) {
        Instant now = clock.instant();
        sessions.values().removeIf(l -> expired(l, now));
        String id = token();
        sessions.put(id, new Login(user, via, token(), now, now));
        return id;
    }

    /** The live login of a session id, touched; null when there is none. */
    Login find(String id) {
        if (id == null) {
            return null;
        }
        Login login = sessions.get(id);
        Instant now = clock.instant();
        if (login == null || expired(login, now)) {
            sessions.remove(id);
            return null;
        }
        Login touched = new Login(login.user(), login.via(), login.csrf(), login.started(), now);
        sessions.put(id, touched);
        return touched;
    }

    void close(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    private static boolean expired(Login l, Instant now) {
        return now.isAfter(l.lastUsed().plus(IDLE)) || now.isAfter(l.started().plus(MAX_AGE));
    }
}
