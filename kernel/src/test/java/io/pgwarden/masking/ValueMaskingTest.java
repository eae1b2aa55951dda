package io.pgwarden.masking;

import static io.pgwarden.masking.MaskersForTests.DATE;
import static io.pgwarden.masking.MaskersForTests.INT4;
import static io.pgwarden.masking.MaskersForTests.JSONB;
import static io.pgwarden.masking.MaskersForTests.TEXT;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.ValueType;
import org.junit.jupiter.api.Test;

class ValueMaskingTest {

    private static Masker returning(String result) {
        return (value, type) -> result;
    }

    @Test
    void textTakesAnyStringButNul() {
        assertThat(ValueMasking.mask(returning("x y"), "a", TEXT)).isEqualTo("x y");
        assertThat(ValueMasking.mask(returning("x\0y"), "a", TEXT)).isNull();
    }

    @Test
    void aResultEqualToTheInputIsNeverPassedThrough() {
        Masker identity = (value, type) -> value;
        assertThat(ValueMasking.mask(identity, "secret", TEXT)).isNull();
        assertThat(ValueMasking.mask(identity, "42", INT4)).isNull();
        assertThat(ValueMasking.mask(identity, "{\"a\":1}", JSONB)).isNull();
    }

    @Test
    void jsonKeepsDocumentsAndQuotesTheRest() {
        assertThat(ValueMasking.mask(returning("{\"a\": [1, null]}"), "{}", JSONB)).isEqualTo("{\"a\": [1, null]}");
        assertThat(ValueMasking.mask(returning("12"), "{}", JSONB)).isEqualTo("12");
        assertThat(ValueMasking.mask(returning("[redacted]"), "{}", JSONB)).isEqualTo("\"[redacted]\"");
        assertThat(ValueMasking.mask(returning("say \"hi\"\n"), "{}", JSONB)).isEqualTo("\"say \\\"hi\\\"\\n\"");
        assertThat(ValueMasking.mask(returning("{} {}"), "[]", JSONB)).isEqualTo("\"{} {}\"");
        assertThat(ValueMasking.mask(returning(""), "[]", JSONB)).isEqualTo("\"\"");
    }

    @Test
    void numbersMustBePlainDecimalsInTheTypesRange() {
        ValueType int2 = ValueTypes.of(ValueTypes.INT2);
        ValueType int8 = ValueTypes.of(ValueTypes.INT8);
        ValueType numeric = ValueTypes.of(ValueTypes.NUMERIC);
        ValueType oid = ValueTypes.of(ValueTypes.OID);
        assertThat(ValueMasking.mask(returning("-12"), "1", INT4)).isEqualTo("-12");
        assertThat(ValueMasking.mask(returning("1.5"), "1", INT4)).isNull();
        assertThat(ValueMasking.mask(returning("1.5"), "1", numeric)).isEqualTo("1.5");
        assertThat(ValueMasking.mask(returning("32767"), "1", int2)).isEqualTo("32767");
        assertThat(ValueMasking.mask(returning("32768"), "1", int2)).isNull();
        assertThat(ValueMasking.mask(returning("2147483648"), "1", INT4)).isNull();
        assertThat(ValueMasking.mask(returning("9223372036854775808"), "1", int8)).isNull();
        assertThat(ValueMasking.mask(returning("4294967295"), "1", oid)).isEqualTo("4294967295");
        assertThat(ValueMasking.mask(returning("-1"), "1", oid)).isNull();
        for (String notPlain : new String[] {"", "-", "1e5", "1.", ".5", "0x10", "NaN", "Infinity", " 1", "1,5", "****"}) {
            assertThat(ValueMasking.mask(returning(notPlain), "1", numeric)).as(notPlain).isNull();
        }
    }

    @Test
    void otherTypesAreNullUnlessTheMaskerVouchesForItsResult() {
        assertThat(ValueMasking.mask(returning("1970-01-01"), "2024-01-01", DATE)).isNull();
        Masker vouching = new Masker() {
            @Override
            public String mask(String value, ValueType type) {
                return "1970-01-01";
            }

            @Override
            public boolean validFor(String masked, ValueType type) {
                return type.name().equals("date");
            }
        };
        assertThat(ValueMasking.mask(vouching, "2024-01-01", DATE)).isEqualTo("1970-01-01");
    }

    @Test
    void aMaskerThatThrowsGivesNull() {
        Masker failing = (value, type) -> {
            throw new IllegalStateException("boom " + value);
        };
        assertThat(ValueMasking.mask(failing, "secret", TEXT)).isNull();
        assertThat(ValueMasking.mask(new NamedMasker("deep", "test", (value, type) -> {
            throw new StackOverflowError();
        }), "secret", JSONB)).isNull();
    }

    @Test
    void valueTypesSortBuiltInOidsIntoFamilies() {
        assertThat(ValueTypes.of(25)).isEqualTo(new ValueType(25, "text", ValueType.Kind.TEXT));
        assertThat(ValueTypes.of(1043).kind()).isEqualTo(ValueType.Kind.TEXT);
        assertThat(ValueTypes.of(3802).kind()).isEqualTo(ValueType.Kind.JSON);
        assertThat(ValueTypes.of(1700).kind()).isEqualTo(ValueType.Kind.NUMBER);
        assertThat(ValueTypes.of(1082)).isEqualTo(new ValueType(1082, "date", ValueType.Kind.OTHER));
        assertThat(ValueTypes.of(99999)).isEqualTo(new ValueType(99999, "unknown", ValueType.Kind.OTHER));
        assertThat(ValueTypes.of(16385, "CITEXT")).isEqualTo(new ValueType(16385, "citext", ValueType.Kind.TEXT));
        assertThat(ValueTypes.of(16390, "mood")).isEqualTo(new ValueType(16390, "mood", ValueType.Kind.OTHER));
        assertThat(ValueTypes.of(25, "whatever").name()).isEqualTo("text");
    }
}
