package io.pgwarden.masking;

import java.util.List;

/**
 * {@code phone}: telephone numbers written the ways people write them, preferring a false
 * alarm to a miss without flagging every integer. A candidate is a run of digits and the
 * separators {@code space - . / ( )} (at most two in a row), standing alone (no letter or
 * digit touching it), with 7 to 15 digits (ITU-T E.164's maximum). It is a phone number when
 *
 * <ul>
 *   <li>it starts with {@code +} (international: {@code +44 20 7946 0958}, {@code +4915112345678}); or</li>
 *   <li>its digits are in two or more groups ({@code (555) 123-4567}, {@code 030 1234567},
 *       {@code 06 12 34 56 78}, {@code 555.123.4567}), except what reads as something else: a
 *       date ({@code 2024-01-15}, {@code 15.01.2024}, {@code 1/15/2024}), an IPv4 address, or a
 *       decimal number (two groups joined by a dot); or</li>
 *   <li>it is one group of 10 to 15 digits starting with a national trunk prefix {@code 0}
 *       or the international prefix {@code 00} ({@code 01711234567}); a plain integer
 *       without a leading zero is never a phone number.</li>
 * </ul>
 */
final class PhoneDetector extends BuiltInDetector {
    static final String KIND = "phone";
    static final int MIN_DIGITS = 7;
    static final int MAX_DIGITS = 15;

    PhoneDetector() {
        super(KIND, MIN_DIGITS);
    }

    @Override
    public List<Finding> find(CharSequence text) {
        List<Finding> found = null;
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            boolean plus = c == '+' && i + 1 < n && (isDigit(text.charAt(i + 1)) || text.charAt(i + 1) == '(');
            boolean opens = plus || isDigit(c) || (c == '(' && i + 1 < n && isDigit(text.charAt(i + 1)));
            if (!opens) {
                i++;
                continue;
            }
            if (i > 0 && isWordChar(text.charAt(i - 1))) {
                // Digits glued to a word ("abc555-1234", "v1.2.3"): the whole run is part of that word.
                i++;
                while (i < n && (isDigit(text.charAt(i)) || isSeparator(text.charAt(i)) && i + 1 < n && isDigit(text.charAt(i + 1)))) {
                    i++;
                }
                continue;
            }
            Run run = new Run();
            int j = run.scan(text, plus ? i + 1 : i);
            boolean standsAlone = run.lastDigitEnd > 0 && (run.lastDigitEnd >= n || !isWordChar(text.charAt(run.lastDigitEnd)));
            if (standsAlone && run.digits >= MIN_DIGITS && run.digits <= MAX_DIGITS && run.isPhone(plus, firstDigit(text, i))) {
                found = add(found, i, run.lastDigitEnd);
            }
            i = Math.max(j, i + 1);
        }
        return result(found);
    }

    private static char firstDigit(CharSequence text, int from) {
        int k = from;
        while (!isDigit(text.charAt(k))) {
            k++;
        }
        return text.charAt(k);
    }

    /**
     * What the classification needs of a run of digits and separators: the digit count, the
     * groups (their number, the first three lengths, the longest) and which separators. A
     * scalar object the JIT can keep off the heap.
     */
    private static final class Run {
        int digits;
        int groups;
        int first;
        int second;
        int third;
        int longest;
        int lastDigitEnd = -1;
        boolean onlyDots = true;
        boolean dateSeparator;

        /** Consumes the run from {@code j}; returns where it stopped. */
        int scan(CharSequence text, int j) {
            int n = text.length();
            int current = 0;
            int separatorRun = 0;
            while (j < n) {
                char d = text.charAt(j);
                if (isDigit(d)) {
                    if (current == 0) {
                        groups++;
                    }
                    digits++;
                    current++;
                    separatorRun = 0;
                    lastDigitEnd = j + 1;
                } else if (isSeparator(d) && separatorRun < 2) {
                    if (current > 0) {
                        endGroup(current);
                        current = 0;
                    }
                    if (digits > 0) {
                        onlyDots &= d == '.';
                        dateSeparator |= d == '-' || d == '/' || d == '.';
                    }
                    separatorRun++;
                } else {
                    break;
                }
                j++;
            }
            if (current > 0) {
                endGroup(current);
            }
            return j;
        }

        private void endGroup(int length) {
            switch (groups) {
                case 1 -> first = length;
                case 2 -> second = length;
                case 3 -> third = length;
                default -> { }
            }
            longest = Math.max(longest, length);
        }

        boolean isPhone(boolean plus, char firstDigit) {
            if (plus) {
                return true;
            }
            if (groups >= 2) {
                if (onlyDots && (groups == 2 || isIpv4())) {
                    return false;
                }
                return !(dateSeparator && isDate());
            }
            return digits >= 10 && firstDigit == '0';
        }

        private boolean isIpv4() {
            return groups == 4 && longest <= 3;
        }

        /** yyyy-mm-dd, dd.mm.yyyy, m/d/yyyy and the like. */
        private boolean isDate() {
            return groups == 3 && ((first == 4 && second <= 2 && third <= 2) || (first <= 2 && second <= 2 && third == 4));
        }
    }

    private static boolean isSeparator(char c) {
        return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '\u00A0';
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
