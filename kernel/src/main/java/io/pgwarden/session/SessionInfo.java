package io.pgwarden.session;

import java.time.Instant;
import java.util.Set;

/**
 * What an operator sees of a live session (admin API, {@code pgwarden sessions list}).
 * Taken once when the session becomes ready; nothing in it changes afterwards.
 *
 * @param upstreamPid the upstream backend's process id (pg_stat_activity.pid, pg_backend_pid())
 * @param expires when the session ends by session.max_lifetime, or null when it does not
 */
public record SessionInfo(
        String id,
        String identity,
        String issuer,
        Set<String> groups,
        String clientAddress,
        String user,
        String database,
        String policy,
        String upstream,
        int upstreamPid,
        Instant started,
        Instant expires) {

    public SessionInfo {
        groups = Set.copyOf(groups);
    }
}
