package io.pgwarden.plugin.api;

/**
 * One configured masking transformation, made by its {@link MaskerFactory}: turns a value an
 * agent must not see into one it may see (a redaction, the last digits, a keyed hash, …).
 *
 * <p>The gateway calls {@link #mask} on the session's event loop for every masked value of
 * every row, so it must be fast, must not block (no I/O), and must be thread-safe (one
 * instance serves every session). It receives the value in PostgreSQL's text form, whatever
 * format the client asked for; NULLs are never passed in (they stay NULL).
 *
 * <p>A masker must never return its input unchanged when it could carry the protected value
 * (for example the {@code partial} masker on a value shorter than what it keeps returns
 * stars), nor a form the original can be read back from (reversed, case-changed, hex, base64);
 * the gateway sends NULL for a result equal to the input. Throwing is safe: the gateway then
 * sends NULL for the value and logs the masker's name (never the value).
 */
public interface Masker {

    /**
     * @param value the original value in PostgreSQL's text output format; never null
     * @param type  the value's SQL type
     * @return the masked value in text form, or {@code null} for SQL NULL
     */
    String mask(String value, ValueType type);

    /**
     * Whether {@code masked}, returned by {@link #mask} for a value of {@code type}, is a valid
     * value of that type when the gateway cannot tell by itself ({@link ValueType.Kind#OTHER}).
     * The default says no, so such values become NULL.
     */
    default boolean validFor(String masked, ValueType type) {
        return false;
    }
}
