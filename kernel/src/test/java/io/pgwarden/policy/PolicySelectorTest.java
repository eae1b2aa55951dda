package io.pgwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.GatewayConfig.Match;
import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import io.pgwarden.plugin.api.Identity;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicySelectorTest {
    private static final Upstream APP = upstream("app", "appdb");
    private static final Upstream REPORTS = upstream("reports", "reports");

    private static Upstream upstream(String name, String database) {
        return new Upstream(name, null, null, database, null, null, null, null, null);
    }

    private static Policy policy(String name, List<String> groups, List<String> names, String upstream) {
        return new Policy(name, new Match(groups, names), upstream, null, null, null, null, null, null);
    }

    private static Identity identity(String name, String... groups) {
        return new Identity(name, "static-keys", Set.of(groups), Map.of());
    }

    private final PolicySelector selector = new PolicySelector(List.of(
            policy("loaders", List.of("loaders"), List.of(), "app"),
            policy("by-name", List.of(), List.of("svc-reports"), "reports"),
            policy("analysts", List.of("analysts", "loaders"), List.of(), "reports")),
            List.of(APP, REPORTS));

    @Test
    void groupMatchAdmitsByUpstreamNameOrByItsDatabaseName() {
        var byName = selector.select(identity("a", "loaders"), "app");
        assertThat(byName).isInstanceOf(PolicySelector.Admitted.class);
        assertThat(((PolicySelector.Admitted) byName).policy().name()).isEqualTo("loaders");
        assertThat(((PolicySelector.Admitted) byName).upstream()).isEqualTo(APP);

        var byDatabase = selector.select(identity("a", "loaders"), "appdb");
        assertThat(byDatabase).isInstanceOf(PolicySelector.Admitted.class);
    }

    @Test
    void nameMatchAdmits() {
        var s = selector.select(identity("svc-reports"), "reports");
        assertThat(s).isInstanceOf(PolicySelector.Admitted.class);
        assertThat(((PolicySelector.Admitted) s).policy().name()).isEqualTo("by-name");
    }

    @Test
    void firstMatchDecidesEvenWhenALaterPolicyWouldAdmit() {
        // "loaders" matches first and points at app; the later "analysts" (also matching
        // group loaders) must not be consulted: first match wins (DESIGN §5).
        var s = selector.select(identity("a", "loaders"), "reports");
        assertThat(s).isInstanceOf(PolicySelector.WrongDatabase.class);
        var wrong = (PolicySelector.WrongDatabase) s;
        assertThat(wrong.policy().name()).isEqualTo("loaders");
        assertThat(wrong.upstream()).isEqualTo(APP);
    }

    @Test
    void noMatchingGroupOrNameIsNoPolicy() {
        assertThat(selector.select(identity("stranger", "visitors"), "app")).isInstanceOf(PolicySelector.NoPolicy.class);
        assertThat(selector.select(identity("stranger"), "app")).isInstanceOf(PolicySelector.NoPolicy.class);
    }

    @Test
    void theUserNameAloneIsNotAGroup() {
        // An identity named like a group is not a member of it.
        assertThat(selector.select(identity("loaders"), "app")).isInstanceOf(PolicySelector.NoPolicy.class);
    }

    @Test
    void unknownDatabaseIsWrongDatabaseNotAdmitted() {
        assertThat(selector.select(identity("a", "analysts"), "postgres")).isInstanceOf(PolicySelector.WrongDatabase.class);
    }

    @Test
    void matchingIsCaseSensitive() {
        assertThat(selector.select(identity("a", "Loaders"), "app")).isInstanceOf(PolicySelector.NoPolicy.class);
    }
}
