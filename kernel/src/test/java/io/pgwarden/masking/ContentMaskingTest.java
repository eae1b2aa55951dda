package io.pgwarden.masking;

import static io.pgwarden.masking.MaskersForTests.DATE;
import static io.pgwarden.masking.MaskersForTests.INT8;
import static io.pgwarden.masking.MaskersForTests.JSONB;
import static io.pgwarden.masking.MaskersForTests.TEXT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.PiiDetector;
import io.pgwarden.plugin.api.PiiDetector.Finding;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContentMaskingTest {
    private static final MaskerRegistry REGISTRY = MaskerRegistry.builtIns();
    private static final List<PiiDetector> ALL = REGISTRY.detectors(List.of("email", "phone", "card", "ssn", "iban"));
    private static final Masker REDACT = REGISTRY.masker("redact").orElseThrow();
    private static final Masker EMAIL = REGISTRY.masker("email").orElseThrow();
    private static final Masker PARTIAL = REGISTRY.masker("partial").orElseThrow();
    private static final Masker NULL = REGISTRY.masker("null").orElseThrow();

    @Test
    void aValueWithoutFindingsComesBackAsTheSameInstance() {
        String plain = "nothing to see here, order 12 of 2024-01-15";
        assertThat(ContentMasking.mask(ALL, REDACT, plain, TEXT)).isSameAs(plain);
        String json = "{\"id\": 12, \"note\": \"fine\"}";
        assertThat(ContentMasking.mask(ALL, REDACT, json, JSONB)).isSameAs(json);
        assertThat(ContentMasking.mask(ALL, REDACT, "12345", INT8)).isSameAs("12345");
    }

    @Test
    void textHasEveryFindingReplaced() {
        assertThat(ContentMasking.mask(ALL, REDACT, "mail alice@example.com or call +44 20 7946 0958", TEXT))
                .isEqualTo("mail [redacted] or call [redacted]");
        assertThat(ContentMasking.mask(ALL, EMAIL, "from alice@example.com, card 4111 1111 1111 1111", TEXT))
                .isEqualTo("from ***@example.com, card ***");
        assertThat(ContentMasking.mask(ALL, PARTIAL, "card 4111-1111-1111-1111 ok", TEXT)).isEqualTo("card ***************1111 ok");
    }

    @Test
    void overlappingFindingsOfSeveralDetectorsAreMaskedOnce() {
        // 123-45-6789 is an SSN and, to the phone detector, a phone number.
        assertThat(ContentMasking.mask(ALL, REDACT, "ssn 123-45-6789.", TEXT)).isEqualTo("ssn [redacted].");
    }

    @Test
    void aFindingTheMaskerTurnsToNullMakesTheWholeTextNull() {
        assertThat(ContentMasking.mask(ALL, NULL, "mail alice@example.com", TEXT)).isNull();
    }

    @Test
    void jsonHasStringsKeysAndNumbersMaskedAndStaysValid() throws Exception {
        String doc = "{\"name\": \"Alice\", \"contact\": {\"email\": \"alice@example.com\", \"phones\": [\"+1 555 123 4567\", \"n/a\"]},"
                + " \"alice@example.com\": true, \"card\": 4111111111111111, \"amount\": 12.50, \"ok\": null}";
        String masked = ContentMasking.mask(ALL, REDACT, doc, JSONB);
        ObjectMapper json = new ObjectMapper();
        assertThat(json.readTree(masked)).isEqualTo(json.readTree("{\"name\": \"Alice\", \"contact\": {\"email\": \"[redacted]\","
                + " \"phones\": [\"[redacted]\", \"n/a\"]}, \"[redacted]\": true, \"card\": \"[redacted]\", \"amount\": 12.50,"
                + " \"ok\": null}"));
        assertThat(masked).contains("12.50").doesNotContain("alice").doesNotContain("4111");
    }

    @Test
    void jsonEscapesDoNotHideFindings() {
        String doc = "[\"alice\\u0040example.com\", \"\\u0034111111111111111\"]";
        assertThat(ContentMasking.mask(ALL, REDACT, doc, JSONB)).isEqualTo("[\"[redacted]\",\"[redacted]\"]");
    }

    @Test
    void aJsonStringTheMaskerTurnsToNullBecomesJsonNull() {
        assertThat(ContentMasking.mask(ALL, NULL, "{\"e\": \"alice@example.com\", \"n\": 1}", JSONB)).isEqualTo("{\"e\":null,\"n\":1}");
        assertThat(ContentMasking.mask(ALL, NULL, "4111111111111111", JSONB)).isEqualTo("null");
    }

    @Test
    void aJsonKeyTheMaskerCannotMaskMakesTheDocumentNull() {
        assertThat(ContentMasking.mask(ALL, NULL, "{\"alice@example.com\": 1}", JSONB)).isNull();
    }

    @Test
    void numbersAndOtherTypesWithAFindingBecomeNull() {
        assertThat(ContentMasking.mask(ALL, PARTIAL, "4111111111111111", INT8)).isNull();
        assertThat(ContentMasking.mask(ALL, PARTIAL, "123456789", INT8)).isNull(); // an SSN's shape
        assertThat(ContentMasking.mask(ALL, PARTIAL, "{alice@example.com}", ValueTypes.of(1009, "_text"))).isNull();
        assertThat(ContentMasking.mask(ALL, PARTIAL, "2024-01-15", DATE)).isEqualTo("2024-01-15");
    }

    @Test
    void aFailingPluginDetectorMakesTheValueNull() {
        PiiDetector failing = MaskersForTests.detector("broken", text -> {
            throw new IllegalStateException("no");
        });
        PiiDetector outOfRange = MaskersForTests.detector("sloppy", text -> List.of(new Finding(0, text.length() + 5)));
        assertThat(ContentMasking.mask(List.of(failing), REDACT, "anything", TEXT)).isNull();
        assertThat(ContentMasking.mask(List.of(outOfRange), REDACT, "anything", TEXT)).isNull();
    }

    @Test
    void pluginDetectorsRunOnValuesTheBuiltInPreChecksWouldSkip() {
        PiiDetector names = MaskersForTests.detector("name", text -> {
            int at = text.toString().indexOf("Alice");
            return at < 0 ? List.of() : List.of(new Finding(at, at + 5));
        });
        assertThat(ContentMasking.mask(List.of(ALL.getFirst(), names), REDACT, "Dear Alice,", TEXT)).isEqualTo("Dear [redacted],");
        assertThat(ContentMasking.mask(List.of(names), REDACT, "{\"to\": \"Alice\"}", JSONB)).isEqualTo("{\"to\":\"[redacted]\"}");
    }
}
