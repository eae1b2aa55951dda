package io.pgwarden.masking;

import io.pgwarden.plugin.PluginLoadException;
import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.ValueType;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** Maskers built the way the gateway builds them: from configuration entries, through the registry. */
final class MaskersForTests {
    static final String KEY_VARIABLE = "PGW_TEST_HASH_KEY";
    static final String KEY = "0123456789abcdef-test-key";
    static final ValueType TEXT = ValueTypes.of(ValueTypes.TEXT);
    static final ValueType JSONB = ValueTypes.of(ValueTypes.JSONB);
    static final ValueType INT4 = ValueTypes.of(ValueTypes.INT4);
    static final ValueType INT8 = ValueTypes.of(ValueTypes.INT8);
    static final ValueType DATE = ValueTypes.of(1082);

    private MaskersForTests() {
    }

    static MaskerRegistry registry(List<Map<String, Object>> entries) throws PluginLoadException {
        return MaskerRegistry.build(entries, Map.of(), Map.of(), Map.of(KEY_VARIABLE, KEY)::get, Clock.systemUTC(), Path.of("."));
    }

    /** One masker from one entry, named "m". */
    static Masker masker(Map<String, Object> options) throws PluginLoadException {
        Map<String, Object> entry = new java.util.LinkedHashMap<>(options);
        entry.put("name", "m");
        return registry(List.of(entry)).masker("m").orElseThrow();
    }

    /** A detector as a plugin would provide one, finding what {@code find} says. */
    static io.pgwarden.plugin.api.PiiDetector detector(String kind,
            java.util.function.Function<CharSequence, List<io.pgwarden.plugin.api.PiiDetector.Finding>> find) {
        return new io.pgwarden.plugin.api.PiiDetector() {
            @Override
            public String kind() {
                return kind;
            }

            @Override
            public List<Finding> find(CharSequence text) {
                return find.apply(text);
            }
        };
    }

    static Masker hash() throws PluginLoadException {
        return masker(Map.of("type", "hash", "key_env", KEY_VARIABLE));
    }
}
