package io.pgwarden.plugins.maskerexample;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.ValueType;

/**
 * The first letter of each of the first {@code maxInitials} words, upper-cased and followed
 * by a dot: {@code alice smith} → {@code A. S.}. A value with no letters becomes {@code *}.
 *
 * <p>What a masker must do (plugin-api's {@link Masker}): be fast and thread-safe (one
 * instance serves every session, on the network threads: no I/O, no locks; this one keeps
 * no state at all), and never hand back its input. What it need not do: know PostgreSQL's
 * types. It returns text; the gateway keeps the column valid, sending a JSON string for a
 * json column and NULL where the text is not a valid value (a number or date column). So
 * this masker returns NULL itself for those: initials are never a valid number.
 */
final class InitialsMasker implements Masker {
    private final int maxInitials;

    InitialsMasker(int maxInitials) {
        this.maxInitials = maxInitials;
    }

    @Override
    public String mask(String value, ValueType type) {
        if (type.kind() == ValueType.Kind.NUMBER || type.kind() == ValueType.Kind.OTHER) {
            return null;
        }
        StringBuilder initials = new StringBuilder();
        int count = 0;
        boolean inWord = false;
        for (int i = 0; i < value.length() && count < maxInitials; ) {
            int c = value.codePointAt(i);
            if (Character.isLetter(c)) {
                if (!inWord) {
                    if (count > 0) {
                        initials.append(' ');
                    }
                    initials.appendCodePoint(Character.toUpperCase(c)).append('.');
                    count++;
                    inWord = true;
                }
            } else if (Character.isWhitespace(c) || c == '-' && !inWord) {
                inWord = false;
            }
            i += Character.charCount(c);
        }
        return count == 0 ? "*" : initials.toString();
    }

    @Override
    public String toString() {
        return "InitialsMasker[maxInitials=" + maxInitials + "]";
    }
}
