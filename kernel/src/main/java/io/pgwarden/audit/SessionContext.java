package io.pgwarden.audit;

import io.pgwarden.plugin.api.Identity;
import java.util.List;
import java.util.Objects;

/**
 * Who a session is, recorded once by {@link AuditLog#sessionStarted} and copied by the
 * audit log into every record of the session, so each record stands on its own.
 *
 * @param sessionId     the gateway's session id, as in its log lines
 * @param identity      the agent's name
 * @param issuer        who vouched for the identity
 * @param groups        the identity's groups (stored sorted)
 * @param clientAddress the client's IP address
 * @param database      the database the client asked for
 * @param upstream      the upstream the session is connected to
 */
public record SessionContext(String sessionId, String identity, String issuer, List<String> groups,
                             String clientAddress, String database, String upstream) {
    public SessionContext {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(identity, "identity");
        groups = groups == null ? List.of() : groups.stream().sorted().toList();
    }

    public static SessionContext of(String sessionId, Identity identity, String clientAddress, String database,
                                    String upstream) {
        return new SessionContext(sessionId, identity.name(), identity.issuer(), List.copyOf(identity.groups()),
                clientAddress, database, upstream);
    }
}
