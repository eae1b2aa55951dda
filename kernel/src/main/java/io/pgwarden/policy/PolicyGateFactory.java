package io.pgwarden.policy;

import io.pgwarden.analysis.StatementAnalyzer;
import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.plugin.api.Identity;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Opens a {@link PolicyGate} per session over the policies compiled once at start-up. */
public final class PolicyGateFactory implements StatementGateFactory {
    private final Map<String, CompiledPolicy> policies;
    private final Map<String, ApprovalRules> approvals = new java.util.HashMap<>();
    private final StatementAnalyzer analyzer;

    public PolicyGateFactory(List<Policy> policies, StatementAnalyzer analyzer) {
        this.policies = policies.stream().map(CompiledPolicy::new)
                .collect(Collectors.toUnmodifiableMap(p -> p.name, Function.identity()));
        this.analyzer = analyzer;
        for (int i = 0; i < policies.size(); i++) {
            approvals.put(policies.get(i).name(), new ApprovalRules(i, policies.get(i).approve()));
        }
    }

    @Override
    public StatementGate open(Policy policy, Identity identity, Upstream upstream, List<String> searchPath) {
        String role = upstream.credential() != null ? upstream.credential().user() : "";
        return new PolicyGate(policies.get(policy.name()), approvals.get(policy.name()), analyzer, new SearchPathTracker(searchPath, role));
    }
}
