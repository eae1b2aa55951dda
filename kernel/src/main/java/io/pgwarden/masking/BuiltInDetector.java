package io.pgwarden.masking;

import io.pgwarden.plugin.api.PiiDetector;
import java.util.ArrayList;
import java.util.List;

/**
 * A detector of the gateway's own, which can tell from a value's {@link TextStats} that it
 * holds no candidate at all: most values of most columns skip every scan. Plugin detectors
 * have no such pre-check and always run.
 */
abstract sealed class BuiltInDetector implements PiiDetector
        permits EmailDetector, PhoneDetector, CardDetector, SsnDetector, IbanDetector {

    private final String kind;
    private final int minDigits;

    /** @param minDigits the fewest digits a text with a finding has: fewer skip the scan */
    BuiltInDetector(String kind, int minDigits) {
        this.kind = kind;
        this.minDigits = minDigits;
    }

    @Override
    public final String kind() {
        return kind;
    }

    /** False only when {@link #find} is certain to find nothing in a text with these statistics. */
    boolean mayMatch(TextStats stats) {
        return stats.digits() >= minDigits;
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    static boolean isAsciiLetter(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    static List<Finding> add(List<Finding> found, int start, int end) {
        List<Finding> list = found != null ? found : new ArrayList<>(2);
        list.add(new Finding(start, end));
        return list;
    }

    static List<Finding> result(List<Finding> found) {
        return found != null ? found : List.of();
    }

    /**
     * What a single pass over a value tells the pre-checks: how many ASCII digits, whether
     * there is an {@code @}, how long it is.
     */
    record TextStats(int length, int digits, boolean at) {
        static TextStats of(CharSequence text) {
            int digits = 0;
            boolean at = false;
            for (int i = 0, n = text.length(); i < n; i++) {
                char c = text.charAt(i);
                if (isDigit(c)) {
                    digits++;
                } else if (c == '@') {
                    at = true;
                }
            }
            return new TextStats(text.length(), digits, at);
        }
    }
}
