package io.pgwarden.session;

import java.security.SecureRandom;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions that have reached the ready state, by the cancel key their client holds.
 * The key's process id is the upstream backend's real one (so that pg_backend_pid() and
 * the pid in a NotificationResponse agree with what the client was told, and a client
 * can skip its own notifications), but the secret is the gateway's own: a client can
 * never cancel an upstream query directly, only through the gateway, which checks it.
 * Process ids of different upstreams may coincide; the pair with the secret is unique.
 */
public final class SessionRegistry {
    private final SecureRandom random = new SecureRandom();
    private final Map<Long, FrontendSession> byCancelKey = new ConcurrentHashMap<>();

    /** Registers the session under its process id and a fresh secret; returns the secret. */
    int register(int processId, FrontendSession session) {
        while (true) {
            int secret = random.nextInt();
            if (byCancelKey.putIfAbsent(key(processId, secret), session) == null) {
                return secret;
            }
        }
    }

    void remove(int processId, int secret, FrontendSession session) {
        byCancelKey.remove(key(processId, secret), session);
    }

    /** The session a CancelRequest names, or null: a wrong secret looks like an unknown pid. */
    FrontendSession byCancelKey(int processId, int secret) {
        return byCancelKey.get(key(processId, secret));
    }

    public Collection<FrontendSession> sessions() {
        return List.copyOf(byCancelKey.values());
    }

    /** The sessions whose identity has this name (several issuers may use one name: all of them). */
    public List<FrontendSession> byIdentity(String name) {
        return byCancelKey.values().stream().filter(s -> name.equals(s.info().identity())).toList();
    }

    public java.util.Optional<FrontendSession> byId(String sessionId) {
        return byCancelKey.values().stream().filter(s -> s.id().equals(sessionId)).findFirst();
    }

    public int size() {
        return byCancelKey.size();
    }

    private static long key(int processId, int secret) {
        return ((long) processId << 32) | (secret & 0xFFFFFFFFL);
    }
}
