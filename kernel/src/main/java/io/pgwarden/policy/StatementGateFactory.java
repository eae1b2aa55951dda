package io.pgwarden.policy;

import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.plugin.api.Identity;
import java.util.List;

/** Makes the {@link StatementGate} of a new session, from the policy that admitted it. */
public interface StatementGateFactory {

    /**
     * @param searchPath the session's effective search_path when it started, as the upstream
     *                   reported it (existing, usable schemas in order; no pg_catalog/pg_temp)
     */
    StatementGate open(Policy policy, Identity identity, Upstream upstream, List<String> searchPath);

    /** A query whose rows the session's gate needs from the upstream at login (the masking catalog), or null. */
    default String loginProbe(Policy policy) {
        return null;
    }
}
