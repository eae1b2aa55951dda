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

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    boolean mayMatch(TextStats stats) {
        return stats.digits() >= MIN_DIGITS;
    }

    @Override
    public List<Finding> find(CharSequence text) {
        List<Finding> found = null;
        int n = text.length();
        int i = 0;
        int[] groups = new int[MAX_DIGITS + 1];
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
            // Consume the run: digits in groups, separators between them.
            int j = plus ? i + 1 : i;
            int digits = 0;
            int groupCount = 0;
            int currentGroup = 0;
            int separatorRun = 0;
            int lastDigitEnd = -1;
            boolean onlyDots = true;
            boolean anySeparator = false;
            boolean dateSeparator = false;
            boolean tooLong = false;
            while (j < n) {
                char d = text.charAt(j);
                if (isDigit(d)) {
                    if (currentGroup == 0 && digits > 0) {
                        groupCount++;
                    }
                    digits++;
                    currentGroup++;
                    separatorRun = 0;
                    lastDigitEnd = j + 1;
                    if (digits > MAX_DIGITS) {
                        tooLong = true;
                    }
                } else if (isSeparator(d) && separatorRun < 2) {
                    if (currentGroup > 0) {
                        if (groupCount < groups.length) {
                            groups[groupCount] = currentGroup;
                        }
                        currentGroup = 0;
                    }
                    if (digits > 0) {
                        anySeparator = true;
                        onlyDots &= d == '.';
                        dateSeparator |= d == '-' || d == '/' || d == '.';
                    }
                    separatorRun++;
                } else {
                    break;
                }
                j++;
            }
            if (currentGroup > 0 && groupCount < groups.length) {
                groups[groupCount] = currentGroup;
            }
            int groupTotal = digits == 0 ? 0 : groupCount + 1;
            int end = lastDigitEnd;
            boolean standsAlone = end > 0 && (end >= n || !isWordChar(text.charAt(end)));
            if (!tooLong && standsAlone && digits >= MIN_DIGITS
                    && isPhone(text, i, plus, digits, groups, groupTotal, anySeparator, onlyDots, dateSeparator)) {
                found = add(found, i, end);
            }
            i = Math.max(j, i + 1);
        }
        return result(found);
    }

    private static boolean isPhone(CharSequence text, int start, boolean plus, int digits, int[] groups, int groupTotal,
                                   boolean anySeparator, boolean onlyDots, boolean dateSeparator) {
        if (plus) {
            return true;
        }
        if (groupTotal >= 2 && anySeparator) {
            if (onlyDots && (groupTotal == 2 || isIpv4(groups, groupTotal))) {
                return false;
            }
            return !(dateSeparator && isDate(groups, groupTotal));
        }
        int first = start;
        while (!isDigit(text.charAt(first))) {
            first++;
        }
        return digits >= 10 && text.charAt(first) == '0';
    }

    private static boolean isIpv4(int[] groups, int count) {
        if (count != 4) {
            return false;
        }
        for (int g = 0; g < 4; g++) {
            if (groups[g] > 3) {
                return false;
            }
        }
        return true;
    }

    /** yyyy-mm-dd, dd.mm.yyyy, m/d/yyyy and the like. */
    private static boolean isDate(int[] groups, int count) {
        if (count != 3) {
            return false;
        }
        boolean yearFirst = groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
        boolean yearLast = groups[0] <= 2 && groups[1] <= 2 && groups[2] == 4;
        return yearFirst || yearLast;
    }

    private static boolean isSeparator(char c) {
        return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '\u00A0';
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
