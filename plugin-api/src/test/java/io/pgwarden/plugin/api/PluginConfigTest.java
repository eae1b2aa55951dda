package io.pgwarden.plugin.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PluginConfigTest {

    private static final PluginConfig CONFIG = new PluginConfig("audit.sinks[0]", Map.of(
            "port", 514, "big", 1L << 40, "on", true, "timeout", "1500ms", "days", "7d", "text", "x",
            "headers", Map.of("X-A", "1"), "bad_headers", Map.of("X-B", 2), "list", List.of()));

    @Test
    void typedAccessorsReadTheirTypeAndNameTheKeyOtherwise() throws Exception {
        assertThat(CONFIG.optionalInt("port")).contains(514);
        assertThat(CONFIG.optionalInt("absent")).isEmpty();
        assertThat(CONFIG.optionalBoolean("on")).contains(true);
        assertThat(CONFIG.optionalDuration("timeout")).contains(Duration.ofMillis(1500));
        assertThat(CONFIG.optionalDuration("days")).contains(Duration.ofDays(7));
        assertThat(CONFIG.stringMap("headers")).containsEntry("X-A", "1");
        assertThat(CONFIG.stringMap("absent")).isEmpty();

        assertThatThrownBy(() -> CONFIG.optionalInt("big")).hasMessage("audit.sinks[0].big: must be a whole number, not a long");
        assertThatThrownBy(() -> CONFIG.optionalInt("text")).hasMessage("audit.sinks[0].text: must be a whole number, not a string");
        assertThatThrownBy(() -> CONFIG.optionalBoolean("text")).hasMessageContaining("must be true or false");
        assertThatThrownBy(() -> CONFIG.optionalDuration("port")).hasMessageContaining("audit.sinks[0].port: must be a duration");
        assertThatThrownBy(() -> CONFIG.optionalDuration("text")).hasMessageContaining("must be a duration");
        assertThatThrownBy(() -> CONFIG.stringMap("list")).hasMessage("audit.sinks[0].list: must be a mapping, not a list");
        assertThatThrownBy(() -> CONFIG.stringMap("bad_headers"))
                .hasMessage("audit.sinks[0].bad_headers.X-B: must be a string, not a integer");
    }
}
