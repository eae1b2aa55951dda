package io.pgwarden.masking;

import static io.pgwarden.masking.MaskersForTests.DATE;
import static io.pgwarden.masking.MaskersForTests.INT4;
import static io.pgwarden.masking.MaskersForTests.INT8;
import static io.pgwarden.masking.MaskersForTests.JSONB;
import static io.pgwarden.masking.MaskersForTests.TEXT;
import static io.pgwarden.masking.MaskersForTests.hash;
import static io.pgwarden.masking.MaskersForTests.masker;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.ValueType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BuiltInMaskersTest {

    @Test
    void redactGivesItsTextForTextAndJsonAndNullForTheRest() throws Exception {
        Masker defaults = MaskerRegistry.builtIns().masker("redact").orElseThrow();
        assertThat(ValueMasking.mask(defaults, "alice", TEXT)).isEqualTo("[redacted]");
        assertThat(ValueMasking.mask(defaults, "{\"a\": 1}", JSONB)).isEqualTo("\"[redacted]\"");
        assertThat(ValueMasking.mask(defaults, "42", INT4)).isNull();
        assertThat(ValueMasking.mask(defaults, "2024-01-01", DATE)).isNull();
        Masker custom = masker(Map.of("type", "redact", "text", "XXX"));
        assertThat(ValueMasking.mask(custom, "alice", TEXT)).isEqualTo("XXX");
    }

    @Test
    void emailKeepsOnlyTheDomain() throws Exception {
        Masker email = MaskerRegistry.builtIns().masker("email").orElseThrow();
        assertThat(ValueMasking.mask(email, "alice.smith+news@example.co.uk", TEXT)).isEqualTo("***@example.co.uk");
        assertThat(ValueMasking.mask(email, " bob@Example.COM ", TEXT)).isEqualTo("***@Example.COM");
        assertThat(ValueMasking.mask(email, "jörg@bücher.de", TEXT)).isEqualTo("***@bücher.de");
        assertThat(ValueMasking.mask(email, "alice@example.com", JSONB)).isEqualTo("\"***@example.com\"");
    }

    @Test
    void emailRedactsWhatIsNotOneAddressEntirely() throws Exception {
        Masker email = MaskerRegistry.builtIns().masker("email").orElseThrow();
        for (String notAnAddress : List.of("alice", "alice@localhost", "@example.com", "a@b@example.com",
                "alice@example.com, bob@example.com", "alice smith@example.com", "555-1234")) {
            assertThat(ValueMasking.mask(email, notAnAddress, TEXT)).as(notAnAddress).isEqualTo("***");
        }
        assertThat(ValueMasking.mask(email, "a@example.com", INT4)).isNull();
    }

    @Test
    void partialKeepsTheLastCharactersOnlyOfValuesMoreThanTwiceAsLong() throws Exception {
        Masker partial = MaskerRegistry.builtIns().masker("partial").orElseThrow();
        assertThat(ValueMasking.mask(partial, "4111111111111111", TEXT)).isEqualTo("************1111");
        assertThat(ValueMasking.mask(partial, "123456789", TEXT)).isEqualTo("*****6789");
        // 8 characters or fewer with keep 4: showing 4 would show half or more.
        assertThat(ValueMasking.mask(partial, "12345678", TEXT)).isEqualTo("********");
        assertThat(ValueMasking.mask(partial, "1234", TEXT)).isEqualTo("****");
        assertThat(ValueMasking.mask(partial, "", TEXT)).isNull(); // nothing to hide: "" equals its input
        Masker two = masker(Map.of("type", "partial", "keep", 2, "mask_char", "#"));
        assertThat(ValueMasking.mask(two, "abcdefg", TEXT)).isEqualTo("#####fg");
        assertThat(ValueMasking.mask(two, "a😀b😀c", TEXT)).isEqualTo("###😀c");
        assertThat(ValueMasking.mask(partial, "123456789", INT4)).isNull(); // "*****6789" is not a number
    }

    @Test
    void hashIsDeterministicKeyedAndTypeValid() throws Exception {
        Masker hash = hash();
        String a = ValueMasking.mask(hash, "alice@example.com", TEXT);
        assertThat(a).matches("[0-9a-f]{16}").isEqualTo(ValueMasking.mask(hash(), "alice@example.com", TEXT));
        assertThat(ValueMasking.mask(hash, "bob@example.com", TEXT)).isNotEqualTo(a);
        // Another key, other values: nobody without the key can compute them.
        Masker otherKey = MaskerRegistry.build(List.of(Map.of("name", "m", "type", "hash", "key_env", "K")), Map.of(), Map.of(),
                Map.of("K", "another-key-of-16-bytes-or-more")::get, java.time.Clock.systemUTC(), java.nio.file.Path.of("."))
                .masker("m").orElseThrow();
        assertThat(ValueMasking.mask(otherKey, "alice@example.com", TEXT)).isNotEqualTo(a);
        // Numbers: the same number for the same value in int4 and int8 columns, so joins work.
        String n4 = ValueMasking.mask(hash, "42", INT4);
        assertThat(n4).matches("\\d+").isEqualTo(ValueMasking.mask(hash, "42", INT8));
        assertThat(Long.parseLong(n4)).isBetween(0L, (long) Integer.MAX_VALUE);
        assertThat(Integer.parseInt(ValueMasking.mask(hash, "42", ValueTypes.of(ValueTypes.INT2)))).isBetween(0, 32767);
        assertThat(ValueMasking.mask(hash, "550e8400-e29b-41d4-a716-446655440000", ValueTypes.of(2950)))
                .matches("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(ValueMasking.mask(hash, "2024-01-01", DATE)).isNull();
        assertThat(ValueMasking.mask(masker(Map.of("type", "hash", "key_env", MaskersForTests.KEY_VARIABLE, "length", 40)),
                "x", TEXT)).hasSize(40);
        assertThat(hash.toString()).doesNotContain(MaskersForTests.KEY);
    }

    @Test
    void nullMasksEverythingToNull() throws Exception {
        Masker nul = MaskerRegistry.builtIns().masker("null").orElseThrow();
        assertThat(ValueMasking.mask(nul, "alice", TEXT)).isNull();
        assertThat(ValueMasking.mask(nul, "{}", JSONB)).isNull();
        assertThat(ValueMasking.mask(nul, "1", INT4)).isNull();
    }

    /**
     * The issue's "done when": no masker returns a protected value in plain or transformed
     * form (case, reversed, hex, base64, digits). Values long enough for a transformed copy to
     * be meaningful, random but seeded so a failure repeats.
     */
    @Test
    void noMaskerReturnsItsInputPlainOrTransformed() throws Exception {
        List<Masker> maskers = List.of(MaskerRegistry.builtIns().masker("redact").orElseThrow(),
                MaskerRegistry.builtIns().masker("email").orElseThrow(), MaskerRegistry.builtIns().masker("partial").orElseThrow(),
                MaskerRegistry.builtIns().masker("null").orElseThrow(), hash());
        Random random = new Random(20251125);
        List<String> values = new ArrayList<>(List.of("alice@example.com", "4111 1111 1111 1111", "123-45-6789",
                "DE89 3704 0044 0532 0130 00", "+44 20 7946 0958", "Alice Smith"));
        for (int i = 0; i < 300; i++) {
            values.add(randomValue(random));
        }
        for (Masker m : maskers) {
            for (ValueType type : List.of(TEXT, JSONB, INT8)) {
                for (String value : values) {
                    String masked = ValueMasking.mask(m, value, type);
                    if (masked == null) {
                        continue;
                    }
                    String what = m + " on " + value + " as " + type.name() + " gave " + masked;
                    assertThat(masked).as(what).isNotEqualTo(value);
                    for (String form : transformedForms(value)) {
                        assertThat(masked.toLowerCase(Locale.ROOT)).as(what).doesNotContain(form.toLowerCase(Locale.ROOT));
                    }
                }
            }
        }
    }

    @Test
    void partialNeverShowsMoreThanItKeepsNorHalfOfAValue() throws Exception {
        Random random = new Random(7);
        for (int keep = 0; keep <= 6; keep++) {
            Masker partial = masker(Map.of("type", "partial", "keep", keep));
            for (int i = 0; i < 200; i++) {
                String value = randomValue(random).replace("*", "");
                String masked = ValueMasking.mask(partial, value, TEXT);
                if (masked == null) {
                    assertThat(value).isEmpty();
                    continue;
                }
                String shown = masked.replace("*", "");
                int shownLength = shown.codePointCount(0, shown.length());
                assertThat(shownLength).as(value + " -> " + masked).isLessThanOrEqualTo(keep);
                assertThat(shownLength * 2).as(value + " -> " + masked).isLessThan(Math.max(1, value.codePointCount(0, value.length())));
            }
        }
    }

    /** Forms of a value that still give it away; only for the parts long enough to mean something. */
    private static List<String> transformedForms(String value) {
        if (value.length() < 8) {
            return List.of();
        }
        List<String> forms = new ArrayList<>();
        forms.add(value);
        forms.add(new StringBuilder(value).reverse().toString());
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        forms.add(HexFormat.of().formatHex(utf8));
        forms.add(Base64.getEncoder().withoutPadding().encodeToString(utf8));
        String digits = value.replaceAll("\\D", "");
        if (digits.length() >= 8) {
            forms.add(digits);
        }
        return forms;
    }

    private static String randomValue(Random random) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 @.-_+*éß😀";
        int length = random.nextInt(40);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
        }
        return sb.toString();
    }
}
