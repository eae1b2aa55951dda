package io.pgwarden.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class AuthFailureLimiterTest {

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final MutableClock clock = new MutableClock();
    private final AuthFailureLimiter limiter = new AuthFailureLimiter(3, clock);

    @Test
    void unknownAddressIsAllowed() {
        assertThat(limiter.allows("10.0.0.1")).isTrue();
    }

    @Test
    void refusesAtTheLimitAndOnlyThatAddress() {
        limiter.recordFailure("10.0.0.1");
        limiter.recordFailure("10.0.0.1");
        assertThat(limiter.allows("10.0.0.1")).isTrue();
        limiter.recordFailure("10.0.0.1");
        assertThat(limiter.allows("10.0.0.1")).isFalse();
        assertThat(limiter.allows("10.0.0.2")).isTrue();
    }

    @Test
    void slidingWindowForgetsFailuresOlderThanAMinute() {
        limiter.recordFailure("a");
        clock.advance(Duration.ofSeconds(30));
        limiter.recordFailure("a");
        limiter.recordFailure("a");
        assertThat(limiter.allows("a")).isFalse();
        clock.advance(Duration.ofSeconds(29));
        assertThat(limiter.allows("a")).as("59s after the first failure").isFalse();
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.allows("a")).as("the first failure is a minute old").isTrue();
        limiter.recordFailure("a");
        assertThat(limiter.allows("a")).isFalse();
        clock.advance(Duration.ofSeconds(30));
        assertThat(limiter.allows("a")).isTrue();
    }

    @Test
    void limitOfOneRefusesAfterTheFirstFailure() {
        AuthFailureLimiter strict = new AuthFailureLimiter(1, clock);
        assertThat(strict.allows("a")).isTrue();
        strict.recordFailure("a");
        assertThat(strict.allows("a")).isFalse();
    }

    @Test
    void manyAddressesStayBoundedAndStillCount() {
        for (int i = 0; i < 100_001; i++) {
            limiter.recordFailure("addr-" + i);
        }
        clock.advance(Duration.ofMinutes(2));
        limiter.recordFailure("late");
        limiter.recordFailure("late");
        limiter.recordFailure("late");
        assertThat(limiter.allows("late")).isFalse();
        assertThat(limiter.allows("addr-5")).isTrue();
    }
}
