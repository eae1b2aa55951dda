package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import io.pgwarden.plugin.api.ValueType;
import java.util.Set;

/**
 * {@code type: redact}: every value becomes a fixed text ({@code text}, default
 * {@code [redacted]}); in JSON columns that text as a JSON string; numbers and other
 * types become NULL (no fixed text is a valid date or number).
 */
public final class RedactMaskerFactory implements MaskerFactory {
    public static final String TYPE = "redact";
    static final String DEFAULT_TEXT = "[redacted]";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Masker create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("name", "type", "text"));
        String text = config.optionalString("text").orElse(DEFAULT_TEXT);
        if (text.indexOf('\0') >= 0) {
            throw new PluginConfigException(config.path() + ".text", "must not contain a NUL character");
        }
        return new Redact(text, ValueMasking.isJsonDocument(text) ? text : ValueMasking.jsonString(text));
    }

    /** @param json the text as a JSON document, made once: the gateway then need not find out per value */
    record Redact(String text, String json) implements Masker {
        @Override
        public String mask(String value, ValueType type) {
            return switch (type.kind()) {
                case TEXT -> text;
                case JSON -> json;
                case NUMBER, OTHER -> null;
            };
        }
    }
}
