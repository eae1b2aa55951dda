package io.pgwarden.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.GatewayConfig;
import io.pgwarden.masking.MaskerRegistry;
import io.pgwarden.masking.ValueMasking;
import io.pgwarden.masking.ValueTypes;
import io.pgwarden.plugin.api.Masker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example masker plugin (plugins/masker-example) as an operator installs it: its built
 * jar in a plugins directory, loaded by PF4J, its masker built from a configuration entry.
 */
class MaskerPluginTest {
    private static final Path EXAMPLE_PLUGINS = Path.of("target/example-plugins").toAbsolutePath();

    @Test
    void theExamplePluginsMaskerIsBuiltFromItsConfigurationEntry() throws Exception {
        assertThat(EXAMPLE_PLUGINS.resolve("pgwarden-masker-example.jar")).isRegularFile();
        GatewayConfig.Masking masking = new GatewayConfig.Masking(List.of(
                Map.of("name", "initials", "type", "initials"),
                Map.of("name", "three", "type", "initials", "max_initials", 3)));
        try (PluginHost plugins = PluginHost.start(EXAMPLE_PLUGINS)) {
            MaskerRegistry registry = plugins.maskers(masking, name -> null, Clock.systemUTC(), Path.of("."));
            assertThat(registry.maskerNames()).contains("initials", "three", "redact", "partial");
            Masker initials = registry.masker("initials").orElseThrow();
            assertThat(ValueMasking.mask(initials, "Alice Smith", ValueTypes.of(ValueTypes.TEXT))).isEqualTo("A. S.");
            assertThat(ValueMasking.mask(initials, "Alice Smith", ValueTypes.of(ValueTypes.JSONB))).isEqualTo("\"A. S.\"");
            assertThat(ValueMasking.mask(registry.masker("three").orElseThrow(), "Anna Maria de la Cruz",
                    ValueTypes.of(ValueTypes.VARCHAR))).isEqualTo("A. M. D.");
        }
    }

    @Test
    void aBadEntryForThePluginsTypeIsAStartUpErrorNamingTheKey() throws Exception {
        GatewayConfig.Masking masking = new GatewayConfig.Masking(List.of(Map.of("type", "initials", "max_initials", 0)));
        try (PluginHost plugins = PluginHost.start(EXAMPLE_PLUGINS)) {
            assertThatThrownBy(() -> plugins.maskers(masking, name -> null, Clock.systemUTC(), Path.of(".")))
                    .isInstanceOf(PluginLoadException.class)
                    .hasMessage("masking.maskers[0].max_initials: must be between 1 and 5");
        }
    }

    @Test
    void withoutThePluginItsTypeIsUnknown(@TempDir Path emptyPlugins) throws Exception {
        GatewayConfig.Masking masking = new GatewayConfig.Masking(List.of(Map.of("type", "initials")));
        try (PluginHost plugins = PluginHost.start(emptyPlugins)) {
            assertThatThrownBy(() -> plugins.maskers(masking, name -> null, Clock.systemUTC(), Path.of(".")))
                    .hasMessageStartingWith("masking.maskers[0].type: no masker type \"initials\"")
                    .hasMessageContaining("from plugins: none");
        }
    }

    @Test
    void theMaskingExampleConfigurationBuildsEveryMaskerItNames(@TempDir Path dir) throws Exception {
        GatewayConfig config = ConfigLoader.load(Path.of("../config/masking.example.yaml")).config();
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/masking.key"), "an example key of at least 16 bytes\n");
        try (PluginHost plugins = PluginHost.start(EXAMPLE_PLUGINS)) {
            MaskerRegistry registry = plugins.maskers(config.masking(),
                    Map.of("PGWARDEN_MASKING_KEY", "another example key of 16+ bytes")::get, Clock.systemUTC(), dir);
            assertThat(config.masking().maskers()).isNotEmpty();
            for (Map<String, Object> entry : config.masking().maskers()) {
                assertThat(registry.masker((String) entry.getOrDefault("name", entry.get("type")))).as(entry.toString()).isPresent();
            }
        }
    }
}
