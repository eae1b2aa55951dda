package io.pgwarden.plugins.oidc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.pgwarden.plugin.api.AuthenticationResult;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.Credentials;
import io.pgwarden.plugin.api.Identity;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

final class OidcAssertions {
    static final PluginContext CONTEXT = new PluginContext("authenticators[1]", Clock.systemUTC(), Path.of("."));

    private OidcAssertions() {
    }

    static Authenticator create(Map<String, Object> config) throws PluginConfigException {
        return new OidcAuthenticatorFactory().create(new PluginConfig("authenticators[1]", config), CONTEXT);
    }

    static AuthenticationResult check(Authenticator auth, String token) {
        // Generous guard: every refusal must come back quickly, never hang on the network.
        return assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> auth.authenticate(new Credentials("whoever", token, "app", "127.0.0.1", Map.of())));
    }

    static Identity accepted(Authenticator auth, String token) {
        AuthenticationResult result = check(auth, token);
        assertThat(result).isInstanceOf(AuthenticationResult.Accepted.class);
        return ((AuthenticationResult.Accepted) result).identity();
    }

    /** The reason of a refusal, checked to carry no part of the token. */
    static String rejected(Authenticator auth, String token) {
        AuthenticationResult result = check(auth, token);
        assertThat(result).isInstanceOf(AuthenticationResult.Rejected.class);
        String reason = ((AuthenticationResult.Rejected) result).reason();
        for (String part : token.split("\\.")) {
            if (part.length() >= 8) {
                assertThat(reason).doesNotContain(part).doesNotContain(part.substring(0, 8));
            }
        }
        return reason;
    }
}
