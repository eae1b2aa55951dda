package io.pgwarden.masking;

import java.util.List;

/**
 * {@code email}: {@code local@domain} where the local part is made of letters, digits and
 * {@code !#$%&'*+/=?^_`{|}~.-} (RFC 5322's dot-atom; quoted local parts are not looked for)
 * and the domain has at least two labels of letters, digits and hyphens, the last of at
 * least two characters starting with a letter (international letters included). Scans from
 * each {@code @} outwards, so a long text costs one pass, never a regex's backtracking.
 */
final class EmailDetector extends BuiltInDetector {
    static final String KIND = "email";

    EmailDetector() {
        super(KIND, 0);
    }

    @Override
    boolean mayMatch(TextStats stats) {
        return stats.at();
    }

    @Override
    public List<Finding> find(CharSequence text) {
        List<Finding> found = null;
        int from = 0;
        int n = text.length();
        for (int at = indexOfAt(text, 0); at >= 0; at = indexOfAt(text, at + 1)) {
            int start = at;
            while (start > from && isLocalChar(text.charAt(start - 1))) {
                start--;
            }
            while (start < at && text.charAt(start) == '.') {
                start++;
            }
            if (start == at) {
                continue;
            }
            int end = domainEnd(text, at + 1, n);
            if (end < 0) {
                continue;
            }
            found = add(found, start, end);
            from = end;
            at = end - 1;
        }
        return result(found);
    }

    /**
     * The domain of {@code text} when the whole text is one address as this detector finds
     * them, else null.
     */
    static String domainOfAddress(String text) {
        int at = text.indexOf('@');
        if (at <= 0) {
            return null;
        }
        for (int i = 0; i < at; i++) {
            if (!isLocalChar(text.charAt(i))) {
                return null;
            }
        }
        if (text.charAt(0) == '.' || domainEnd(text, at + 1, text.length()) != text.length()) {
            return null;
        }
        return text.substring(at + 1);
    }

    private static int indexOfAt(CharSequence text, int from) {
        for (int i = from, n = text.length(); i < n; i++) {
            if (text.charAt(i) == '@') {
                return i;
            }
        }
        return -1;
    }

    /** Where a valid domain starting at {@code start} ends, or -1. */
    private static int domainEnd(CharSequence text, int start, int n) {
        int end = start;
        int lastLabelStart = start;
        int labels = 0;
        while (end < n) {
            char c = text.charAt(end);
            if (Character.isLetterOrDigit(c) || c == '-') {
                end++;
            } else if (c == '.' && end > lastLabelStart && end + 1 < n && isDomainLabelChar(text.charAt(end + 1))) {
                labels++;
                end++;
                lastLabelStart = end;
            } else {
                break;
            }
        }
        // Trailing hyphens are not part of a label ("write to a@b.com--thanks" stops at .com).
        while (end > lastLabelStart && text.charAt(end - 1) == '-') {
            end--;
        }
        if (labels == 0 || end - lastLabelStart < 2 || !Character.isLetter(text.charAt(lastLabelStart))
                || text.charAt(start) == '-') {
            return -1;
        }
        return end;
    }

    private static boolean isDomainLabelChar(char c) {
        return Character.isLetterOrDigit(c);
    }

    static boolean isLocalChar(char c) {
        return Character.isLetterOrDigit(c) || "!#$%&'*+/=?^_`{|}~.-".indexOf(c) >= 0;
    }
}
