package io.pgwarden.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failed authentications per client address over a sliding minute. An address at
 * the limit is refused before it may present another credential, which makes guessing a
 * key or replaying stolen tokens slow whichever authenticator they aim at.
 */
public final class AuthFailureLimiter {
    private static final Duration WINDOW = Duration.ofMinutes(1);
    /** Bounds memory under a spray of addresses; the oldest windows go first. */
    private static final int MAX_TRACKED_ADDRESSES = 100_000;

    private final int maxFailures;
    private final Clock clock;
    private final Map<String, Deque<Instant>> failures = new ConcurrentHashMap<>();

    public AuthFailureLimiter(int maxFailuresPerMinute, Clock clock) {
        this.maxFailures = maxFailuresPerMinute;
        this.clock = clock;
    }

    /** Whether this address may try (again) now. */
    public boolean allows(String address) {
        Deque<Instant> recent = failures.get(address);
        if (recent == null) {
            return true;
        }
        synchronized (recent) {
            prune(recent);
            return recent.size() < maxFailures;
        }
    }

    public void recordFailure(String address) {
        if (failures.size() >= MAX_TRACKED_ADDRESSES) {
            failures.entrySet().removeIf(e -> {
                synchronized (e.getValue()) {
                    prune(e.getValue());
                    return e.getValue().isEmpty();
                }
            });
        }
        Deque<Instant> recent = failures.computeIfAbsent(address, a -> new ArrayDeque<>());
        synchronized (recent) {
            prune(recent);
            recent.addLast(clock.instant());
        }
    }

    private void prune(Deque<Instant> recent) {
        Instant horizon = clock.instant().minus(WINDOW);
        while (!recent.isEmpty() && !recent.peekFirst().isAfter(horizon)) {
            recent.removeFirst();
        }
    }
}
