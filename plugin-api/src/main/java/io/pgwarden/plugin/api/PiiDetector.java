package io.pgwarden.plugin.api;

import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * The extension point for content detection: finds personal data (an e-mail address, a
 * payment card number, …) inside a value, whatever its column. Policies name detectors by
 * {@link #kind()} in {@code mask: [{ detect: [email, card], masker: NAME }]}; the gateway
 * replaces every finding with the masker's result and, in JSON values, looks inside every
 * string of the document. The gateway has built-in detectors for {@code email},
 * {@code phone}, {@code card}, {@code ssn} and {@code iban}; a plugin may add kinds, not
 * replace those.
 *
 * <p>Called on the session's event loop for every value of every row a detection rule
 * covers: it must be fast, must not block, and must be thread-safe.
 */
public interface PiiDetector extends ExtensionPoint {

    /** The name policies use for what this detector finds, e.g. {@code email}. */
    String kind();

    /**
     * The findings in {@code text}, as non-overlapping ranges in ascending order.
     * Detectors should prefer a false alarm to a miss: a finding only costs a masked value.
     */
    List<Finding> find(CharSequence text);

    /** A range {@code [start, end)} of the text that holds personal data. */
    record Finding(int start, int end) {
        public Finding {
            if (start < 0 || end <= start) {
                throw new IllegalArgumentException("a finding is a non-empty range: " + start + ".." + end);
            }
        }
    }
}
