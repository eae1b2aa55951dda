package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import io.pgwarden.plugin.api.ValueType;
import java.util.Set;

/** {@code type: null}: every value becomes SQL NULL, whatever its type. */
public final class NullMaskerFactory implements MaskerFactory {
    public static final String TYPE = "null";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Masker create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("name", "type"));
        return new NullMasker();
    }

    record NullMasker() implements Masker {
        @Override
        public String mask(String value, ValueType type) {
            return null;
        }
    }
}
