package io.pgwarden.policy;

import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.plugin.api.Identity;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Picks the policy for a new session: the first policy whose match fits the identity
 * (any listed group, or the identity's name) decides; its upstream must be the database
 * the client asked for, by upstream name or by the upstream's database name. A pure
 * decision, so every rule is testable without a network.
 */
public final class PolicySelector {

    public sealed interface Selection {
    }

    public record Admitted(Policy policy, Upstream upstream) implements Selection {
    }

    /** No policy fits the identity at all. */
    public record NoPolicy() implements Selection {
    }

    /** The deciding policy points at another upstream than the one asked for. */
    public record WrongDatabase(Policy policy, Upstream upstream) implements Selection {
    }

    private final List<Policy> policies;
    private final Map<String, Upstream> upstreamsByName;

    public PolicySelector(List<Policy> policies, List<Upstream> upstreams) {
        this.policies = List.copyOf(policies);
        this.upstreamsByName = upstreams.stream().collect(Collectors.toUnmodifiableMap(Upstream::name, Function.identity()));
    }

    public Selection select(Identity identity, String database) {
        for (Policy policy : policies) {
            if (!matches(policy, identity)) {
                continue;
            }
            Upstream upstream = upstreamsByName.get(policy.upstream());
            if (upstream.name().equals(database) || upstream.database().equals(database)) {
                return new Admitted(policy, upstream);
            }
            return new WrongDatabase(policy, upstream);
        }
        return new NoPolicy();
    }

    static boolean matches(Policy policy, Identity identity) {
        return policy.match().names().contains(identity.name())
                || policy.match().groups().stream().anyMatch(identity.groups()::contains);
    }
}
