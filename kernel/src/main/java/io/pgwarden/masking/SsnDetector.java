package io.pgwarden.masking;

import java.util.List;

/**
 * {@code ssn}: US Social Security numbers, {@code 123-45-6789}, {@code 123 45 6789} or nine
 * digits alone ({@code 123456789}), not touching other digits, and only the numbers the
 * Social Security Administration can issue: area not 000, 666 or 900-999, group not 00,
 * serial not 0000.
 */
final class SsnDetector extends BuiltInDetector {
    static final String KIND = "ssn";

    SsnDetector() {
        super(KIND, 9);
    }

    @Override
    public List<Finding> find(CharSequence text) {
        List<Finding> found = null;
        int n = text.length();
        int i = 0;
        while (i < n) {
            if (!isDigit(text.charAt(i)) || (i > 0 && touchesDigits(text, i - 1, -1))) {
                i++;
                continue;
            }
            int end = ssnEnd(text, i, n);
            if (end > 0 && (end == n || !touchesDigits(text, end, 1))) {
                found = add(found, i, end);
                i = end;
            } else {
                while (i < n && isDigit(text.charAt(i))) {
                    i++;
                }
            }
        }
        return result(found);
    }

    /** Whether the character at {@code at} is a digit, or a separator with a digit beyond it. */
    private static boolean touchesDigits(CharSequence text, int at, int direction) {
        char c = text.charAt(at);
        if (isDigit(c)) {
            return true;
        }
        int beyond = at + direction;
        return (c == '-') && beyond >= 0 && beyond < text.length() && isDigit(text.charAt(beyond));
    }

    /** The end of an SSN written from {@code i}, or -1. */
    private static int ssnEnd(CharSequence text, int i, int n) {
        if (i + 9 <= n && allDigits(text, i, i + 9) && (i + 9 == n || !isDigit(text.charAt(i + 9)))) {
            return issuable(text, i, i + 3, i + 5) ? i + 9 : -1;
        }
        if (i + 11 <= n && allDigits(text, i, i + 3) && allDigits(text, i + 4, i + 6) && allDigits(text, i + 7, i + 11)) {
            char s1 = text.charAt(i + 3);
            char s2 = text.charAt(i + 6);
            if (s1 == s2 && (s1 == '-' || s1 == ' ') && (i + 11 == n || !isDigit(text.charAt(i + 11)))) {
                return issuable(text, i, i + 4, i + 7) ? i + 11 : -1;
            }
        }
        return -1;
    }

    private static boolean issuable(CharSequence text, int area, int group, int serial) {
        int a = number(text, area, area + 3);
        return a != 0 && a != 666 && a < 900 && number(text, group, group + 2) != 0 && number(text, serial, serial + 4) != 0;
    }

    private static boolean allDigits(CharSequence text, int from, int to) {
        for (int k = from; k < to; k++) {
            if (!isDigit(text.charAt(k))) {
                return false;
            }
        }
        return true;
    }

    private static int number(CharSequence text, int from, int to) {
        int v = 0;
        for (int k = from; k < to; k++) {
            v = v * 10 + (text.charAt(k) - '0');
        }
        return v;
    }
}
