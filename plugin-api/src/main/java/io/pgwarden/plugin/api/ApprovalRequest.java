package io.pgwarden.plugin.api;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A statement that waits for a person's decision (DESIGN §8), as an {@link Approver} is told
 * of it. Immutable.
 *
 * <p>The links are the admin page's: {@code page} shows the request to a logged-in approver;
 * {@link Links#approve} and {@link Links#deny} are signed, one-time links for one recipient
 * (see {@link Approver}), which open a confirmation page on the gateway (a link preview or
 * mail scanner that follows them decides nothing).
 *
 * @param id            the request's id, as the waiting client and the admin page show it
 * @param identity      the agent that sent the statement (it can never approve its own request)
 * @param groups        the agent's groups
 * @param sessionId     the gateway's session id
 * @param clientAddress the agent's IP address
 * @param database      the database the agent asked for
 * @param statement     the statement text, as the audit trail stores it (literals replaced when
 *                      {@code audit.redact_literals} is on)
 * @param rule          the rule that matched, e.g. {@code policies[0].approve[1]}
 * @param reason        why the rule matched, e.g. "DELETE without WHERE on public.orders"
 * @param created       when the statement was held
 * @param expires       when the request times out (and the statement is refused)
 */
public record ApprovalRequest(String id, String identity, List<String> groups, String sessionId, String clientAddress,
                              String database, String statement, String rule, String reason, Instant created,
                              Instant expires, URI page) {

    public ApprovalRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(statement, "statement");
        groups = groups == null ? List.of() : List.copyOf(groups);
    }

    /** Signed one-time links for one recipient of a notification. */
    public record Links(URI approve, URI deny) {
    }
}
