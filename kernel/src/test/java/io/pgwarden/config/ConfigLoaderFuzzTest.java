package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A configuration file, however broken, must give either a usable configuration or
 * {@link ConfigException}s that name where the problem is: never another exception (which
 * would reach the operator as a stack trace) and never a configuration the validator let
 * through with a null where a value is required.
 */
class ConfigLoaderFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyYamlGivesAConfigOrAReadableError(byte[] input) {
        if (input == null) {
            return;
        }
        String yaml = new String(input, StandardCharsets.UTF_8);
        try {
            LoadedConfig loaded = ConfigLoader.parse(yaml, "fuzz.yaml", Path.of("/nonexistent-base"));
            GatewayConfig c = loaded.config();
            assertThat(c.upstreams()).isNotEmpty().allSatisfy(u -> {
                assertThat(u.name()).isNotBlank();
                assertThat(u.credential()).isNotNull();
            });
            assertThat(c.policies()).isNotEmpty().allSatisfy(p -> assertThat(p.upstream()).isNotNull());
            assertThat(c.authenticators()).isNotEmpty();
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty().allSatisfy(p -> assertThat(p).startsWith("fuzz.yaml")
                    // Operators read these: no Java internals.
                    .doesNotContain("Cannot construct instance", "NullPointerException", "java.lang.", "io.pgwarden."));
        }
    }
}
