package io.pgwarden.plugins.maskerexample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import io.pgwarden.plugin.api.ValueType;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A plugin's own tests: the factory with configuration maps, the masker with values, no gateway needed. */
class InitialsMaskerTest {
    private static final ValueType TEXT = new ValueType(25, "text", ValueType.Kind.TEXT);

    private static Masker create(Map<String, Object> entry) throws PluginConfigException {
        return new InitialsMaskerFactory().create(new PluginConfig("masking.maskers[0]", entry),
                new PluginContext("masking.maskers[0]", Clock.systemUTC(), Path.of(".")));
    }

    @Test
    void namesBecomeTheirInitials() throws Exception {
        Masker m = create(Map.of("type", "initials"));
        assertThat(m.mask("Alice Smith", TEXT)).isEqualTo("A. S.");
        assertThat(m.mask("  alice   smith ", TEXT)).isEqualTo("A. S.");
        assertThat(m.mask("Anna Maria de la Cruz", TEXT)).isEqualTo("A. M.");
        assertThat(m.mask("Jean-Luc Picard", TEXT)).isEqualTo("J. P.");
        assertThat(m.mask("Łukasz Żak", TEXT)).isEqualTo("Ł. Ż.");
        assertThat(m.mask("42", TEXT)).isEqualTo("*");
        assertThat(m.mask("", TEXT)).isEqualTo("*");
        assertThat(create(Map.of("type", "initials", "max_initials", 3)).mask("Anna Maria de la Cruz", TEXT)).isEqualTo("A. M. D.");
    }

    @Test
    void numbersAndOtherTypesBecomeNull() throws Exception {
        Masker m = create(Map.of("type", "initials"));
        assertThat(m.mask("42", new ValueType(23, "int4", ValueType.Kind.NUMBER))).isNull();
        assertThat(m.mask("2024-01-01", new ValueType(1082, "date", ValueType.Kind.OTHER))).isNull();
    }

    @Test
    void neverReturnsANameItWasGiven() throws Exception {
        Masker m = create(Map.of("type", "initials", "max_initials", 5));
        for (String name : new String[] {"Alice Smith", "Bob", "Jean-Luc Picard"}) {
            assertThat(m.mask(name, TEXT)).as(name).isNotEqualTo(name).doesNotContain(name.substring(0, 2));
        }
        assertThat(m.mask("X", TEXT)).isEqualTo("X.");
        // A value that already is initials comes back as it was: the gateway then sends NULL.
        assertThat(m.mask("A. S.", TEXT)).isEqualTo("A. S.");
    }

    @Test
    void badConfigurationNamesTheKey() {
        assertThatThrownBy(() -> create(Map.of("type", "initials", "max_initials", 9)))
                .hasMessage("masking.maskers[0].max_initials: must be between 1 and 5");
        assertThatThrownBy(() -> create(Map.of("type", "initials", "max_initial", 2)))
                .hasMessageStartingWith("masking.maskers[0].max_initial: unknown key");
    }
}
