package io.pgwarden.policy;

import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.plugin.api.Identity;

/** Makes the {@link StatementGate} of a new session, from the policy that admitted it. */
public interface StatementGateFactory {

    StatementGate open(Policy policy, Identity identity, Upstream upstream);
}
