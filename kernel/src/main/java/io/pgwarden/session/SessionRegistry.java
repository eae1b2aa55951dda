package io.pgwarden.session;

import java.security.SecureRandom;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions that have reached the ready state, by the cancel key the gateway gave
 * their client. The key is the gateway's own: a client never learns the upstream's
 * process id or secret, so it cannot cancel another session's query directly upstream.
 */
public final class SessionRegistry {
    private final SecureRandom random = new SecureRandom();
    private final Map<Integer, FrontendSession> byProcessId = new ConcurrentHashMap<>();

    /** Registers the session under a fresh, unique process id; returns the id. */
    int register(FrontendSession session) {
        while (true) {
            int pid = 1 + random.nextInt(Integer.MAX_VALUE - 1);
            if (byProcessId.putIfAbsent(pid, session) == null) {
                return pid;
            }
        }
    }

    int newSecret() {
        return random.nextInt();
    }

    void remove(int processId, FrontendSession session) {
        byProcessId.remove(processId, session);
    }

    FrontendSession byProcessId(int processId) {
        return byProcessId.get(processId);
    }

    public Collection<FrontendSession> sessions() {
        return List.copyOf(byProcessId.values());
    }

    public int size() {
        return byProcessId.size();
    }
}
