package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import io.pgwarden.plugin.api.ValueType;
import java.util.Set;

/**
 * {@code type: email}: an e-mail address keeps only its domain, {@code alice@example.com}
 * → {@code ***@example.com}, so an agent can still group by provider or company. A value
 * that is not one e-mail address (as {@link EmailDetector} reads one, the whole value,
 * surrounding spaces aside) becomes {@code ***}: its parts cannot be told apart safely.
 * Numbers and other types become NULL.
 */
public final class EmailMaskerFactory implements MaskerFactory {
    public static final String TYPE = "email";
    static final String HIDDEN = "***";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Masker create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("name", "type"));
        return new EmailMasker();
    }

    record EmailMasker() implements Masker {
        @Override
        public String mask(String value, ValueType type) {
            if (type.kind() != ValueType.Kind.TEXT && type.kind() != ValueType.Kind.JSON) {
                return null;
            }
            String domain = EmailDetector.domainOfAddress(value.strip());
            return domain == null ? HIDDEN : HIDDEN + "@" + domain;
        }
    }
}
