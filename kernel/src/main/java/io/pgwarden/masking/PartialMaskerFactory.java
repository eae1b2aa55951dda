package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import io.pgwarden.plugin.api.ValueType;
import java.util.Set;

/**
 * {@code type: partial}: keeps the last {@code keep} characters (default 4) and replaces
 * every other character by {@code mask_char} (default {@code *}), so the length stays:
 * {@code 4111111111111111} → {@code ************1111}.
 *
 * <p>A value of at most {@code 2 × keep} characters is masked whole: keeping its last
 * {@code keep} characters would show half of it or more (a 4-digit PIN would be shown
 * entire). So the output never shows more than {@code keep} characters of the original nor
 * half of a short value. Characters are Unicode code points: a surrogate pair is never split.
 */
public final class PartialMaskerFactory implements MaskerFactory {
    public static final String TYPE = "partial";
    static final int DEFAULT_KEEP = 4;
    static final int MAX_KEEP = 64;

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Masker create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("name", "type", "keep", "mask_char"));
        int keep = config.optionalInt("keep").orElse(DEFAULT_KEEP);
        if (keep < 0 || keep > MAX_KEEP) {
            throw new PluginConfigException(config.path() + ".keep", "must be between 0 and " + MAX_KEEP);
        }
        String maskChar = config.optionalString("mask_char").orElse("*");
        if (maskChar.codePointCount(0, maskChar.length()) != 1 || Character.isWhitespace(maskChar.codePointAt(0))
                || maskChar.charAt(0) == '\0') {
            throw new PluginConfigException(config.path() + ".mask_char", "must be one visible character");
        }
        return new Partial(keep, maskChar.codePointAt(0));
    }

    record Partial(int keep, int maskChar) implements Masker {
        @Override
        public String mask(String value, ValueType type) {
            int length = value.codePointCount(0, value.length());
            int shown = length > 2 * keep ? keep : 0;
            int hidden = length - shown;
            StringBuilder sb = new StringBuilder(value.length());
            for (int i = 0; i < hidden; i++) {
                sb.appendCodePoint(maskChar);
            }
            sb.append(value, value.offsetByCodePoints(value.length(), -shown), value.length());
            return sb.toString();
        }
    }
}
