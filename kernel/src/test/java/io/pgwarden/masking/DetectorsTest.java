package io.pgwarden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.plugin.api.PiiDetector;
import io.pgwarden.plugin.api.PiiDetector.Finding;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DetectorsTest {
    private static final PiiDetector EMAIL = new EmailDetector();
    private static final PiiDetector PHONE = new PhoneDetector();
    private static final PiiDetector CARD = new CardDetector();
    private static final PiiDetector SSN = new SsnDetector();
    private static final PiiDetector IBAN = new IbanDetector();

    /** The found substrings. */
    private static List<String> found(PiiDetector detector, String text) {
        List<Finding> findings = detector.find(text);
        if (!findings.isEmpty()) {
            // The pre-check must never rule out what the scan finds.
            assertThat(((BuiltInDetector) detector).mayMatch(BuiltInDetector.TextStats.of(text))).as(text).isTrue();
        }
        return findings.stream().map(f -> text.substring(f.start(), f.end())).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice@example.com", "alice.smith+tag@mail.example.co.uk", "o'brien@example.ie",
            "jörg@bücher.de", "a_b-c@sub-domain.example.museum", "x@xn--p1ai.xn--p1ai"})
    void emailFindsAddresses(String address) {
        assertThat(found(EMAIL, "write to " + address + ", thanks")).containsExactly(address);
        assertThat(found(EMAIL, "<" + address + ">")).containsExactly(address);
    }

    @ParameterizedTest
    @ValueSource(strings = {"no at sign", "alice@localhost", "@example.com", "alice@", "alice@.com", "alice@example.c",
            "user@123.456", "postgres@15 is the version"})
    void emailIgnoresWhatIsNotAnAddress(String text) {
        assertThat(found(EMAIL, text)).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void emailFindsSeveralAndStopsAtTheDomainsEnd() {
        assertThat(found(EMAIL, "a@example.com;b@example.org. c@example.net")).containsExactly("a@example.com", "b@example.org",
                "c@example.net");
        assertThat(found(EMAIL, ".alice@example.com--")).containsExactly("alice@example.com");
    }

    @ParameterizedTest
    @ValueSource(strings = {"+44 20 7946 0958", "+4915112345678", "+1 (555) 123-4567", "(555) 123-4567", "555-123-4567",
            "555.123.4567", "030 1234567", "06 12 34 56 78", "01711234567", "0044 20 7946 0958", "2345 6789", "+33 1 42 68 53 00"})
    void phoneFindsNumbersAsPeopleWriteThem(String phone) {
        assertThat(found(PHONE, "call " + phone + " today")).containsExactly(phone);
        assertThat(found(PHONE, phone)).containsExactly(phone);
    }

    @ParameterizedTest
    @ValueSource(strings = {"order 12345678", "5551234567", "2024-01-15", "15.01.2024", "1/15/2024", "192.168.100.200",
            "3.14159265", "id 1234567890123456789012", "v1.2.3", "abc555-123-4567", "12 345", "+12 34"})
    void phoneLeavesIntegersDatesAddressesAndDecimalsAlone(String text) {
        assertThat(found(PHONE, text)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5500 0000 0000 0004",
            "3782 822463 10005", "6011000990139424", "4222222222222", "6304000000000000000"})
    void cardFindsLuhnValidNumbers(String card) {
        assertThat(found(CARD, "paid with " + card + ".")).containsExactly(card);
    }

    @org.junit.jupiter.api.Test
    void cardTakesWholeGroupsOnly() {
        assertThat(found(CARD, "4111 1111 1111 1111 2025")).containsExactly("4111 1111 1111 1111");
        assertThat(found(CARD, "exp 12 4111 1111 1111 1111")).containsExactly("4111 1111 1111 1111");
        assertThat(found(CARD, "4111111111111111 and 5500000000000004")).containsExactly("4111111111111111", "5500000000000004");
    }

    @ParameterizedTest
    @ValueSource(strings = {"4111111111111112", "4111 1111 1111 1112", "411111111111", "41111111111111111111111",
            "4111  1111 1111 1111", "1234567812345678"})
    void cardIgnoresNumbersThatFailLuhnOrLength(String text) {
        assertThat(found(CARD, text)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"123-45-6789", "123 45 6789", "123456789", "078-05-1120", "899-99-9999"})
    void ssnFindsIssuableNumbers(String ssn) {
        assertThat(found(SSN, "SSN: " + ssn + ".")).containsExactly(ssn);
    }

    @ParameterizedTest
    @ValueSource(strings = {"000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000", "1234567890",
            "123-45-67890", "0123-45-6789", "123-45 6789", "12345678", "555-123-4567", "4111-1111-1111-1111"})
    void ssnIgnoresImpossibleNumbersAndOtherShapes(String text) {
        assertThat(found(SSN, text)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32",
            "gb82west12345698765432", "NO9386011117947", "MT84MALT011000012345MTLCAST001S", "FR14 2004 1010 0505 0001 3M02 606"})
    void ibanFindsChecksumValidNumbers(String iban) {
        assertThat(found(IBAN, "pay to " + iban + " is mine")).containsExactly(iban);
        assertThat(found(IBAN, iban)).containsExactly(iban);
    }

    @ParameterizedTest
    @ValueSource(strings = {"DE89370400440532013001", "DE88 3704 0044 0532 0130 00", "XDE89370400440532013000",
            "DE89 3704", "ABCDEFGHIJKLMNOPQRST"})
    void ibanIgnoresBadChecksumsAndShortOnes(String text) {
        assertThat(found(IBAN, text)).isEmpty();
    }
}
