package io.pgwarden.masking;

import static io.pgwarden.masking.MaskersForTests.TEXT;
import static io.pgwarden.masking.MaskersForTests.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.plugin.PluginLoadException;
import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PiiDetector;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskerRegistryTest {

    @Test
    void builtInTypesExistWithDefaultsExceptHash() {
        MaskerRegistry r = MaskerRegistry.builtIns();
        assertThat(r.maskerNames()).containsExactlyInAnyOrder("redact", "email", "partial", "null");
        assertThat(r.detectorKinds()).containsExactlyInAnyOrder("email", "phone", "card", "ssn", "iban");
        assertThat(r.masker("hash")).isEmpty();
        assertThat(r.masker("redact").orElseThrow().toString()).isEqualTo("redact");
    }

    @Test
    void entriesAreNamedByNameOrTypeAndMayReplaceADefault() throws Exception {
        MaskerRegistry r = registry(List.of(
                Map.of("name", "last4", "type", "partial", "keep", 4),
                Map.of("type", "hash", "key_env", MaskersForTests.KEY_VARIABLE),
                Map.of("name", "redact", "type", "redact", "text", "<hidden>")));
        assertThat(r.maskerNames()).contains("last4", "hash", "redact", "email", "partial", "null");
        assertThat(ValueMasking.mask(r.masker("redact").orElseThrow(), "x", TEXT)).isEqualTo("<hidden>");
        assertThat(r.masker("last4").orElseThrow().toString()).isEqualTo("last4 (partial)");
    }

    @Test
    void hashWithoutItsKeyIsAStartUpErrorNamingTheKey(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "hash"))))
                .isInstanceOf(PluginLoadException.class).hasMessageContaining("masking.maskers[0]: give the HMAC key as exactly one of key_env");
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "partial"), Map.of("type", "hash", "key_env", "PGW_UNSET_VARIABLE"))))
                .hasMessage("masking.maskers[1].key_env: environment variable PGW_UNSET_VARIABLE is not set");
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "hash", "key_file", dir.resolve("missing.key").toString()))))
                .hasMessageContaining("masking.maskers[0].key_file: cannot read");
        Path shortKey = Files.writeString(dir.resolve("short.key"), "too short\n");
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "hash", "key_file", shortKey.toString()))))
                .hasMessageContaining("masking.maskers[0].key_file: the key has 9 bytes; at least 16 are required");
        Path goodKey = Files.writeString(dir.resolve("good.key"), "a key of thirty-two bytes, or so\n");
        assertThat(registry(List.of(Map.of("type", "hash", "key_file", goodKey.toString()))).masker("hash")).isPresent();
    }

    @Test
    void badOptionsAndUnknownTypesAreStartUpErrorsNamingTheKey() {
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "partial", "keep", -1))))
                .hasMessage("masking.maskers[0].keep: must be between 0 and 64");
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "partial", "mask_char", "**"))))
                .hasMessage("masking.maskers[0].mask_char: must be one visible character");
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "redact", "txt", "x"))))
                .hasMessageStartingWith("masking.maskers[0].txt: unknown key");
        assertThatThrownBy(() -> registry(List.of(Map.of("type", "initials"))))
                .hasMessageStartingWith("masking.maskers[0].type: no masker type \"initials\" (built in: email, hash, null, partial, redact");
    }

    @Test
    void pluginTypesAndKindsAddToTheBuiltInsButCannotReplaceThem() throws Exception {
        MaskerFactory upper = new MaskerFactory() {
            @Override
            public String type() {
                return "upper";
            }

            @Override
            public Masker create(PluginConfig config, PluginContext context) {
                return (value, type) -> "X";
            }
        };
        PiiDetector nothing = MaskersForTests.detector("nothing", text -> List.of());
        MaskerRegistry r = MaskerRegistry.build(List.of(Map.of("name", "shout", "type", "upper")), Map.of("upper", upper),
                Map.of("nothing", nothing), name -> null, Clock.systemUTC(), Path.of("."));
        assertThat(r.masker("shout")).isPresent();
        assertThat(r.detector("nothing")).containsSame(nothing);
        assertThatThrownBy(() -> MaskerRegistry.build(List.of(), Map.of("redact", upper), Map.of(), name -> null, Clock.systemUTC(),
                Path.of("."))).hasMessageContaining("masker type \"redact\", which is built in");
        assertThatThrownBy(() -> MaskerRegistry.build(List.of(), Map.of(), Map.of("email", nothing), name -> null, Clock.systemUTC(),
                Path.of("."))).hasMessageContaining("PII detector kind \"email\", which is built in");
        assertThatThrownBy(() -> r.detectors(List.of("email", "names")))
                .hasMessage("no PII detector \"names\" (known: card, email, iban, nothing, phone, ssn)");
    }
}
