package io.pgwarden.masking;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Converts a column value between PostgreSQL's binary format (the type's {@code *send} /
 * {@code *recv} functions) and its text form, so that a value a client asked for in binary
 * can be masked like any other and sent back in binary. Only for the types where the
 * conversion is exact both ways; for the others both directions are empty, and the engine
 * sends NULL (a binary value it cannot read is never passed through).
 *
 * <p>Text values are read and written as UTF-8: the engine uses this class only for sessions
 * whose client_encoding is UTF-8 (in binary format, too, text arrives in the client encoding).
 * Floats are written as PostgreSQL 12+ writes them ({@code extra_float_digits} 1, the
 * default): the shortest text that reads back as the same number, {@code 1e+16},
 * {@code 1.5}, {@code 1e-05}, {@code Infinity}, {@code NaN}, so a masker that hashes the
 * text gives the same result for the same value in either format.
 */
public final class BinaryValues {
    private static final byte JSONB_VERSION = 1;
    /** What float8in reads besides NaN and the infinities (Java's own syntax is wider: hex floats, a trailing d). */
    private static final java.util.regex.Pattern DECIMAL = java.util.regex.Pattern.compile("-?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?");

    private BinaryValues() {
    }

    /** The text form of a binary value of type {@code typeOid}, or empty when this type is not supported or the bytes are invalid. */
    public static Optional<String> decode(int typeOid, byte[] bytes) {
        return switch (typeOid) {
            case ValueTypes.TEXT, ValueTypes.VARCHAR, ValueTypes.BPCHAR, ValueTypes.NAME, ValueTypes.UNKNOWN,
                 ValueTypes.JSON -> utf8(bytes, 0);
            case ValueTypes.JSONB -> bytes.length >= 1 && bytes[0] == JSONB_VERSION ? utf8(bytes, 1) : Optional.empty();
            case ValueTypes.INT2 -> bytes.length == 2 ? Optional.of(Short.toString(ByteBuffer.wrap(bytes).getShort())) : Optional.empty();
            case ValueTypes.INT4 -> bytes.length == 4 ? Optional.of(Integer.toString(ByteBuffer.wrap(bytes).getInt())) : Optional.empty();
            case ValueTypes.INT8 -> bytes.length == 8 ? Optional.of(Long.toString(ByteBuffer.wrap(bytes).getLong())) : Optional.empty();
            case ValueTypes.OID -> bytes.length == 4
                    ? Optional.of(Long.toString(Integer.toUnsignedLong(ByteBuffer.wrap(bytes).getInt()))) : Optional.empty();
            case ValueTypes.FLOAT4 -> bytes.length == 4 ? Optional.of(floatText(ByteBuffer.wrap(bytes).getFloat())) : Optional.empty();
            case ValueTypes.FLOAT8 -> bytes.length == 8 ? Optional.of(doubleText(ByteBuffer.wrap(bytes).getDouble())) : Optional.empty();
            default -> Optional.empty();
        };
    }

    /** The binary form of {@code text} for type {@code typeOid}, or empty when this type is not supported or the text is not a valid value. */
    public static Optional<byte[]> encode(int typeOid, String text) {
        try {
            return switch (typeOid) {
                case ValueTypes.TEXT, ValueTypes.VARCHAR, ValueTypes.BPCHAR, ValueTypes.NAME, ValueTypes.UNKNOWN,
                     ValueTypes.JSON -> text.indexOf('\0') < 0 ? Optional.of(text.getBytes(StandardCharsets.UTF_8)) : Optional.empty();
                case ValueTypes.JSONB -> jsonb(text);
                case ValueTypes.INT2 -> Optional.of(ByteBuffer.allocate(2).putShort(Short.parseShort(text)).array());
                case ValueTypes.INT4 -> Optional.of(ByteBuffer.allocate(4).putInt(Integer.parseInt(text)).array());
                case ValueTypes.INT8 -> Optional.of(ByteBuffer.allocate(8).putLong(Long.parseLong(text)).array());
                case ValueTypes.OID -> Optional.of(ByteBuffer.allocate(4).putInt(Integer.parseUnsignedInt(text)).array());
                case ValueTypes.FLOAT4 -> Optional.of(ByteBuffer.allocate(4).putFloat(parseFloat(text)).array());
                case ValueTypes.FLOAT8 -> Optional.of(ByteBuffer.allocate(8).putDouble(parseDouble(text)).array());
                default -> Optional.empty();
            };
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<byte[]> jsonb(String text) {
        if (text.indexOf('\0') >= 0) {
            return Optional.empty();
        }
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length + 1];
        out[0] = JSONB_VERSION;
        System.arraycopy(utf8, 0, out, 1, utf8.length);
        return Optional.of(out);
    }

    private static Optional<String> utf8(byte[] bytes, int offset) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, offset, bytes.length - offset));
            return Optional.of(chars.toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    private static double parseDouble(String text) {
        return switch (text) {
            case "NaN" -> Double.NaN;
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> {
                if (!DECIMAL.matcher(text).matches()) {
                    throw new NumberFormatException("not a float");
                }
                yield Double.parseDouble(text);
            }
        };
    }

    private static float parseFloat(String text) {
        double d = parseDouble(text);
        float f = (float) d;
        return Double.isNaN(d) || Double.isInfinite(d) ? f : Float.parseFloat(text);
    }

    /**
     * float8out with extra_float_digits 1: the shortest digits (Java's Double.toString has
     * given those since JDK 19), written positionally when the decimal exponent is in
     * [-4, 15), else as d.ddde±XX (PostgreSQL's {@code float8out}, via ryu's d2s).
     */
    static String doubleText(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        return pgFloatText(shortest(d, Double.toString(d), Double::parseDouble), d == 0 && 1 / d < 0, 15);
    }

    /** float4out: as {@link #doubleText} with the exponential form from 1e+06 (FLT_DIG). */
    static String floatText(float f) {
        if (Float.isNaN(f)) {
            return "NaN";
        }
        if (Float.isInfinite(f)) {
            return f > 0 ? "Infinity" : "-Infinity";
        }
        return pgFloatText(shortest(f, Float.toString(f), Float::parseFloat), f == 0 && 1 / f < 0, 6);
    }

    /**
     * Java writes at least two significant digits and, among those, the closest to the
     * value; PostgreSQL (ryu) writes the fewest, so where one digit reads back as the same
     * number (5e-324, not Java's 4.9E-324) that digit is what PostgreSQL prints.
     */
    private static <T extends Number> String shortest(T value, String javaText, java.util.function.Function<String, T> parse) {
        BigDecimal oneDigit = new BigDecimal(value.doubleValue()).round(new java.math.MathContext(1, java.math.RoundingMode.HALF_EVEN));
        String candidate = oneDigit.toString();
        return parse.apply(candidate).equals(value) ? candidate : javaText;
    }

    private static String pgFloatText(String javaText, boolean negativeZero, int digitsLimit) {
        if (negativeZero) {
            return "-0";
        }
        BigDecimal value = new BigDecimal(javaText).stripTrailingZeros();
        if (value.signum() == 0) {
            return "0";
        }
        String digits = value.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - value.scale(); // the power of ten of the first digit
        String sign = value.signum() < 0 ? "-" : "";
        if (exponent < -4 || exponent >= digitsLimit) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String exp = Integer.toString(Math.abs(exponent));
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (exp.length() < 2 ? "0" + exp : exp);
        }
        return sign + value.abs().toPlainString();
    }
}
