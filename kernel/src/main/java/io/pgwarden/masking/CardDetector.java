package io.pgwarden.masking;

import java.util.List;

/**
 * {@code card}: payment card numbers, 13 to 19 digits (ISO/IEC 7812), written together or
 * in groups separated by single spaces or hyphens, that pass the Luhn check. Digits are
 * never taken from the middle of a group: in {@code 4111 1111 1111 1111 2025} the card is
 * the first four groups. About one random 16-digit number in ten passes Luhn: those are
 * false alarms, accepted (a finding only costs a masked value).
 */
final class CardDetector extends BuiltInDetector {
    static final String KIND = "card";
    static final int MIN_DIGITS = 13;
    static final int MAX_DIGITS = 19;

    CardDetector() {
        super(KIND, MIN_DIGITS);
    }

    @Override
    public List<Finding> find(CharSequence text) {
        List<Finding> found = null;
        int n = text.length();
        int[] bounds = null; // start and end of each digit group of the current run, made for the first long run
        int i = 0;
        while (i < n) {
            if (!isDigit(text.charAt(i))) {
                i++;
                continue;
            }
            int runEnd = runEnd(text, i);
            if (digitsIn(text, i, runEnd) < MIN_DIGITS) {
                i = runEnd;
                continue;
            }
            if (bounds == null) {
                bounds = new int[16];
            }
            // A run: digit groups joined by single separators.
            int groups = 0;
            int j = i;
            while (true) {
                int g = j;
                while (j < n && isDigit(text.charAt(j))) {
                    j++;
                }
                if (2 * groups + 2 > bounds.length) {
                    bounds = java.util.Arrays.copyOf(bounds, bounds.length * 2);
                }
                bounds[2 * groups] = g;
                bounds[2 * groups + 1] = j;
                groups++;
                if (j + 1 >= n || !isSeparator(text.charAt(j)) || !isDigit(text.charAt(j + 1))) {
                    break;
                }
                j++;
            }
            // Cards start at a group's start and end at a group's end: the longest valid one from each group.
            for (int first = 0; first < groups; ) {
                int last = longestCard(text, bounds, first, groups);
                if (last >= 0) {
                    found = add(found, bounds[2 * first], bounds[2 * last + 1]);
                    first = last + 1;
                } else {
                    first++;
                }
            }
            i = j;
        }
        return result(found);
    }

    /** Where the run of digit groups joined by single separators that starts at {@code i} ends. */
    private static int runEnd(CharSequence text, int i) {
        int n = text.length();
        int j = i;
        while (j < n && (isDigit(text.charAt(j)) || isSeparator(text.charAt(j)) && j + 1 < n && isDigit(text.charAt(j + 1))
                && j > i && isDigit(text.charAt(j - 1)))) {
            j++;
        }
        return j;
    }

    private static int digitsIn(CharSequence text, int from, int to) {
        int digits = 0;
        for (int k = from; k < to; k++) {
            if (isDigit(text.charAt(k))) {
                digits++;
            }
        }
        return digits;
    }

    /** The last group of the longest Luhn-valid card starting at group {@code first}, or -1. */
    private static int longestCard(CharSequence text, int[] bounds, int first, int groups) {
        int digits = 0;
        int best = -1;
        for (int g = first; g < groups; g++) {
            digits += bounds[2 * g + 1] - bounds[2 * g];
            if (digits > MAX_DIGITS) {
                break;
            }
            if (digits >= MIN_DIGITS && luhn(text, bounds[2 * first], bounds[2 * g + 1])) {
                best = g;
            }
        }
        return best;
    }

    /** The Luhn (mod 10) check over the digits of {@code text[start, end)}, separators skipped. */
    static boolean luhn(CharSequence text, int start, int end) {
        int sum = 0;
        boolean doubled = false;
        for (int i = end - 1; i >= start; i--) {
            char c = text.charAt(i);
            if (!isDigit(c)) {
                continue;
            }
            int d = c - '0';
            if (doubled) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            doubled = !doubled;
        }
        return sum % 10 == 0;
    }

    private static boolean isSeparator(char c) {
        return c == ' ' || c == '-';
    }
}
