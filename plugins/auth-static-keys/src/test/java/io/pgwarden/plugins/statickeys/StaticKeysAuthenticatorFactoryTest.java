package io.pgwarden.plugins.statickeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.plugin.api.AuthenticationResult;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.Credentials;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StaticKeysAuthenticatorFactoryTest {
    private static final PluginContext CONTEXT = new PluginContext("authenticators[0]", Clock.systemUTC(), java.nio.file.Path.of("."));

    static String sha256Hex(String key) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    }

    private static Authenticator create(List<Map<String, Object>> keys) throws PluginConfigException {
        return new StaticKeysAuthenticatorFactory().create(
                new PluginConfig("authenticators[0]", Map.of("type", "static-keys", "keys", keys)), CONTEXT);
    }

    private static Credentials credentials(String user, String secret) {
        return new Credentials(user, secret, "app", "127.0.0.1", Map.of());
    }

    @Test
    void acceptsTheKeyOfTheNamedAgentWithItsGroups() throws Exception {
        Authenticator auth = create(List.of(
                Map.of("name", "ci-loader", "key_sha256", sha256Hex("k1"), "groups", List.of("loaders")),
                Map.of("name", "reporter", "key_sha256", sha256Hex("k2"))));

        AuthenticationResult result = auth.authenticate(credentials("ci-loader", "k1"));

        assertThat(result).isInstanceOfSatisfying(AuthenticationResult.Accepted.class, a -> {
            assertThat(a.identity().name()).isEqualTo("ci-loader");
            assertThat(a.identity().groups()).containsExactly("loaders");
            assertThat(a.identity().issuer()).isEqualTo(StaticKeysAuthenticator.ISSUER);
        });
        assertThat(auth.authenticate(credentials("reporter", "k2"))).isInstanceOf(AuthenticationResult.Accepted.class);
    }

    @Test
    void rejectsAWrongKeyAndAKeyPresentedUnderAnotherAgentsName() throws Exception {
        Authenticator auth = create(List.of(
                Map.of("name", "ci-loader", "key_sha256", sha256Hex("k1")),
                Map.of("name", "reporter", "key_sha256", sha256Hex("k2"))));

        assertThat(auth.authenticate(credentials("ci-loader", "k1x"))).isInstanceOf(AuthenticationResult.Rejected.class);
        assertThat(auth.authenticate(credentials("reporter", "k1")))
                .isInstanceOfSatisfying(AuthenticationResult.Rejected.class,
                        r -> assertThat(r.reason()).contains("belongs to \"ci-loader\""));
        assertThat(auth.authenticate(credentials("ci-loader", ""))).isInstanceOf(AuthenticationResult.Rejected.class);
    }

    @Test
    void acceptsUpperCaseDigests() throws Exception {
        Authenticator auth = create(List.of(Map.of("name", "a", "key_sha256", sha256Hex("k").toUpperCase())));
        assertThat(auth.authenticate(credentials("a", "k"))).isInstanceOf(AuthenticationResult.Accepted.class);
    }

    @Test
    void badConfigurationNamesTheKeyPath() {
        assertThatThrownBy(() -> create(List.of(Map.of("name", "a", "key_sha256", "abc"))))
                .isInstanceOf(PluginConfigException.class)
                .hasMessageStartingWith("authenticators[0].keys[0].key_sha256: must be 64 hexadecimal digits");
        assertThatThrownBy(() -> create(List.of(Map.of("name", "a", "key_sha", "abc"))))
                .hasMessageStartingWith("authenticators[0].keys[0].key_sha: unknown key");
        assertThatThrownBy(() -> create(List.of()))
                .hasMessage("authenticators[0].keys: at least one key is required");
        assertThatThrownBy(() -> create(List.of(
                Map.of("name", "a", "key_sha256", sha256Hex("k1")),
                Map.of("name", "a", "key_sha256", sha256Hex("k2")))))
                .hasMessageStartingWith("authenticators[0].keys[1].name: \"a\" is used by another key");
        assertThatThrownBy(() -> create(List.of(
                Map.of("name", "a", "key_sha256", sha256Hex("k1")),
                Map.of("name", "b", "key_sha256", sha256Hex("k1").toUpperCase()))))
                .hasMessageStartingWith("authenticators[0].keys[1].key_sha256: the same key is configured twice");
        assertThatThrownBy(() -> create(List.of(Map.of("name", "a", "key_sha256", sha256Hex("k1"), "groups", "x"))))
                .hasMessageStartingWith("authenticators[0].keys[0].groups: must be a list of strings");
    }
}
