package io.pgwarden.plugins.maskerexample;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.util.Set;
import org.pf4j.Extension;

/**
 * {@code type: initials}: a person's name becomes its initials, {@code Alice Smith} →
 * {@code A. S.}, enough to tell rows apart by eye without the name.
 *
 * <pre>
 * masking:
 *   maskers:
 *     - name: initials          # what policies' mask rules refer to (default: the type)
 *       type: initials
 *       max_initials: 2         # default 2 (1-5): "Anna Maria de la Cruz" → "A. M."
 * </pre>
 *
 * <p>{@code @Extension} makes PF4J list the class in the jar's {@code META-INF/extensions.idx};
 * the gateway then calls {@link #create} once per configuration entry of this type, at
 * start-up. Errors name the key ({@code config.path()} is e.g. {@code masking.maskers[2]}) so
 * the operator can find it.
 */
@Extension
public final class InitialsMaskerFactory implements MaskerFactory {
    static final String TYPE = "initials";
    static final int DEFAULT_MAX_INITIALS = 2;

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Masker create(PluginConfig config, PluginContext context) throws PluginConfigException {
        // Fail on misspelt keys rather than silently using a default.
        config.requireOnlyKeys(Set.of("name", "type", "max_initials"));
        int maxInitials = config.optionalInt("max_initials").orElse(DEFAULT_MAX_INITIALS);
        if (maxInitials < 1 || maxInitials > 5) {
            throw new PluginConfigException(config.path() + ".max_initials", "must be between 1 and 5");
        }
        return new InitialsMasker(maxInitials);
    }
}
