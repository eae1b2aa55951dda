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
        this(policies, analyzer, io.pgwarden.masking.MaskRules.Resolver.NONE);
    }

    /** @throws IllegalArgumentException for a mask rule whose masker or detector nobody provides */
    public PolicyGateFactory(List<Policy> policies, StatementAnalyzer analyzer, io.pgwarden.masking.MaskRules.Resolver maskers) {
        this.policies = policies.stream().map(p -> new CompiledPolicy(p, maskers))
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

    @Override
    public String loginProbe(Policy policy) {
        io.pgwarden.masking.MaskRules rules = policies.get(policy.name()).mask;
        return rules.hasColumnRules() ? io.pgwarden.masking.MaskingCatalog.probeSql(rules) : null;
    }

    /** The policy's compiled mask rules: what the session's login probe must look up. */
    public io.pgwarden.masking.MaskRules maskRules(Policy policy) {
        return policies.get(policy.name()).mask;
    }
}
