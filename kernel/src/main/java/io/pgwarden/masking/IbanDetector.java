package io.pgwarden.masking;

import java.util.List;

/**
 * {@code iban}: International Bank Account Numbers (ISO 13616): two letters, two check
 * digits and up to 30 letters or digits, 15 to 34 characters in all, written together or in
 * groups separated by single spaces, upper or lower case, that pass the ISO 7064 mod-97
 * check. The country code is not checked against the registry: the checksum leaves about
 * one random candidate in a hundred, an accepted false alarm.
 */
final class IbanDetector extends BuiltInDetector {
    static final String KIND = "iban";
    static final int MIN_LENGTH = 15;
    static final int MAX_LENGTH = 34;
    /**
     * Every issued IBAN has at least six digits (two check digits and a numeric bank, branch or
     * account part; only Qatar's and Saint Lucia's formats would allow fewer, and their
     * account numbers are numeric), so texts with fewer skip the scan.
     */
    static final int MIN_DIGITS = 6;

    IbanDetector() {
        super(KIND, MIN_DIGITS);
    }

    @Override
    boolean mayMatch(TextStats stats) {
        return super.mayMatch(stats) && stats.length() >= MIN_LENGTH;
    }

    @Override
    public List<Finding> find(CharSequence text) {
        List<Finding> found = null;
        int n = text.length();
        int i = 0;
        while (i + MIN_LENGTH <= n) {
            if (!startsIban(text, i, n)) {
                i++;
                continue;
            }
            int end = longestIban(text, i, n);
            if (end > 0) {
                found = add(found, i, end);
                i = end;
            } else {
                i++;
            }
        }
        return result(found);
    }

    private static boolean startsIban(CharSequence text, int i, int n) {
        return isAsciiLetter(text.charAt(i)) && isAsciiLetter(text.charAt(i + 1)) && isDigit(text.charAt(i + 2))
                && isDigit(text.charAt(i + 3)) && (i == 0 || !isAlnum(text.charAt(i - 1)));
    }

    /**
     * The end of the longest IBAN starting at {@code start}: candidates end where a group of
     * letters and digits ends (before a space, or where the run ends), so a word after the
     * number ("DE89 3704 0044 0532 0130 00 is mine") is tried without and with.
     */
    private static int longestIban(CharSequence text, int start, int n) {
        int best = -1;
        int characters = 0;
        int j = start;
        while (j < n) {
            char c = text.charAt(j);
            if (isAlnum(c)) {
                characters++;
                if (characters > MAX_LENGTH) {
                    break;
                }
                j++;
                boolean groupEnds = j == n || !isAlnum(text.charAt(j));
                if (groupEnds && characters >= MIN_LENGTH && checksumValid(text, start, j)) {
                    best = j;
                }
            } else if (c == ' ' && j + 1 < n && isAlnum(text.charAt(j + 1)) && j > start) {
                j++;
            } else {
                break;
            }
        }
        return best;
    }

    /** ISO 7064 MOD 97-10: the first four characters moved to the end, letters as 10-35, the number mod 97 is 1. */
    static boolean checksumValid(CharSequence text, int start, int end) {
        int rest = start;
        for (int seen = 0; seen < 4; rest++) {
            if (text.charAt(rest) != ' ') {
                seen++;
            }
        }
        int remainder = 0;
        for (int k = rest; k < end; k++) {
            remainder = append(remainder, text.charAt(k));
        }
        for (int k = start; k < rest; k++) {
            remainder = append(remainder, text.charAt(k));
        }
        return remainder == 1;
    }

    /** The remainder mod 97 after appending {@code c} (a digit, or a letter as two digits); spaces add nothing. */
    private static int append(int remainder, char c) {
        if (c == ' ') {
            return remainder;
        }
        if (isDigit(c)) {
            return (remainder * 10 + (c - '0')) % 97;
        }
        int value = Character.toUpperCase(c) - 'A' + 10;
        return (remainder * 100 + value) % 97;
    }

    private static boolean isAlnum(char c) {
        return isDigit(c) || isAsciiLetter(c);
    }
}
