package io.pgwarden.masking;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.ValueType;
import java.io.IOException;
import java.math.BigInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one masker to one value and keeps the result valid for the value's type (the rules
 * in {@link ValueType}'s javadoc), so that a masker's mistake can only lose information:
 *
 * <ul>
 *   <li>a result equal to the input becomes NULL: whatever the masker meant, the original
 *       must not pass through;</li>
 *   <li>TEXT: any string without a NUL character (PostgreSQL text cannot hold one);</li>
 *   <li>JSON: a JSON document as it is, anything else as a JSON string;</li>
 *   <li>NUMBER: a plain decimal ({@code -?digits[.digits]}) that fits the column's type
 *       (integers for int2/int4/int8/oid, in range), else NULL;</li>
 *   <li>OTHER: NULL unless the masker's {@link Masker#validFor} accepts the result;</li>
 *   <li>a masker that throws: NULL, and a log line naming the masker, never the value.</li>
 * </ul>
 */
public final class ValueMasking {
    private static final Logger LOG = LoggerFactory.getLogger(ValueMasking.class);
    private static final JsonFactory JSON = new JsonFactory();
    private static final BigInteger OID_MAX = BigInteger.valueOf(0xFFFF_FFFFL);

    private ValueMasking() {
    }

    /**
     * @param value the original value in text form, not null (SQL NULL stays NULL without a masker)
     * @return the masked value in text form, or null for SQL NULL
     */
    public static String mask(Masker masker, String value, ValueType type) {
        String masked;
        try {
            masked = masker.mask(value, type);
        } catch (RuntimeException | StackOverflowError e) {
            failed(masker, type, e);
            return null;
        }
        return valid(masker, value, masked, type);
    }

    /** {@code masked}, the masker's result for {@code original}, made valid for {@code type}. */
    static String valid(Masker masker, String original, String masked, ValueType type) {
        if (masked == null || masked.equals(original)) {
            return null;
        }
        return switch (type.kind()) {
            case TEXT -> masked.indexOf('\0') < 0 ? masked : null;
            case JSON -> isJsonDocument(masked) ? masked : jsonString(masked);
            case NUMBER -> isNumberOf(masked, type) ? masked : null;
            case OTHER -> acceptedForOther(masker, masked, type) ? masked : null;
        };
    }

    private static boolean acceptedForOther(Masker masker, String masked, ValueType type) {
        try {
            return masker.validFor(masked, type);
        } catch (RuntimeException e) {
            failed(masker, type, e);
            return false;
        }
    }

    /** The log line names the masker and the type, never the value (it is what is being protected). */
    static void failed(Masker masker, ValueType type, Throwable e) {
        LOG.warn("masker {} failed on a {} value, which is sent as NULL: {}", masker, type.name(), e.getClass().getName());
    }

    /** {@code text} quoted as a JSON string. */
    static String jsonString(String text) {
        char[] quoted = JsonStringEncoder.getInstance().quoteAsString(text);
        StringBuilder sb = new StringBuilder(quoted.length + 2);
        return sb.append('"').append(quoted).append('"').toString();
    }

    /** Exactly one JSON value, nothing after it. */
    static boolean isJsonDocument(String text) {
        if (text.isEmpty() || !mayStartJson(text.charAt(0))) {
            return false; // most maskers' results (***@example.com, [redacted]…) are told apart without a parse
        }
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() == null) {
                return false;
            }
            p.skipChildren();
            return p.nextToken() == null;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a JSON document can start with {@code c} (RFC 8259: a value after optional white space). */
    private static boolean mayStartJson(char c) {
        return switch (c) {
            case '{', '[', '"', '-', 't', 'f', 'n', ' ', '\t', '\n', '\r' -> true;
            default -> c >= '0' && c <= '9';
        };
    }

    /**
     * Whether {@code text} is a plain decimal valid for the NUMBER type: digits with an
     * optional minus and fraction; for integer types no fraction and within the type's range.
     */
    static boolean isNumberOf(String text, ValueType type) {
        int n = text.length();
        int i = n > 0 && text.charAt(0) == '-' ? 1 : 0;
        int intStart = i;
        while (i < n && isDigit(text.charAt(i))) {
            i++;
        }
        int intEnd = i;
        if (intEnd == intStart) {
            return false;
        }
        boolean fraction = false;
        if (i < n && text.charAt(i) == '.') {
            i++;
            int fracStart = i;
            while (i < n && isDigit(text.charAt(i))) {
                i++;
            }
            if (i == fracStart) {
                return false;
            }
            fraction = true;
        }
        if (i != n) {
            return false;
        }
        return switch (type.oid()) {
            case ValueTypes.INT2 -> !fraction && inRange(text, Short.MIN_VALUE, Short.MAX_VALUE);
            case ValueTypes.INT4 -> !fraction && inRange(text, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case ValueTypes.INT8 -> !fraction && inRange(text, Long.MIN_VALUE, Long.MAX_VALUE);
            case ValueTypes.OID -> !fraction && text.charAt(0) != '-' && new BigInteger(text).compareTo(OID_MAX) <= 0;
            default -> true;
        };
    }

    private static boolean inRange(String digits, long min, long max) {
        try {
            long v = Long.parseLong(digits);
            return v >= min && v <= max;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
