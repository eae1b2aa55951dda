package io.pgwarden.jit;

import java.time.Instant;

/**
 * A role made for one session.
 *
 * @param name      the role's name: the upstream's {@code role_prefix} and the session id
 * @param upstream  the upstream it exists on
 * @param sessionId the session it serves
 * @param expires   its VALID UNTIL; the session ends then too
 */
public record JitRole(String name, String upstream, String sessionId, Instant expires) {
}
