package io.pgwarden.masking;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks the texts of ErrorResponse and NoticeResponse messages of statements that read masked
 * data: PostgreSQL quotes the offending value in many messages (<code>invalid input syntax for
 * type integer: "alice@example.com"</code>) and puts whole rows in details (<code>Failing row
 * contains (…)</code>, <code>Key (email)=(…) already exists</code>).
 *
 * <p>Kept: severity, SQLSTATE, position, hint, and the schema/table/column/constraint name
 * fields. The message keeps its words; its double-quoted parts become {@value #MASKED},
 * except in errors of SQLSTATE class 42 (undefined column, relation, function…), where a
 * quoted name that the statement itself contains stays readable: such messages name what the
 * client wrote, not data. (Keeping any quoted text found in the statement would make the
 * message an oracle for guesses planted in a comment.) Detail, context ({@code W}) and internal query are dropped. Messages raised
 * by code no analysis follows (user functions, procedures) are withheld entirely, since
 * {@code RAISE} can put any value in them unquoted. Content detection rules apply to what is left.
 */
public final class ServerMessageMasking {
    static final String MASKED = "\"[masked]\"";
    private static final Pattern QUOTED = Pattern.compile("\"((?:[^\"]|\"\")*)\"");

    private ServerMessageMasking() {
    }

    /**
     * @param fields the message's fields by code, in order
     * @param notice a NoticeResponse (else an ErrorResponse)
     * @return the fields to send instead, or null when nothing needs to change
     */
    public static Map<Character, String> mask(Map<Character, String> fields, boolean notice, ResultMask mask, String statementText) {
        boolean columnsTouched = mask.touchesMaskedData();
        boolean detect = !mask.rules().detection().isEmpty();
        if (!columnsTouched && !detect) {
            return null;
        }
        Map<Character, String> out = new LinkedHashMap<>();
        for (Map.Entry<Character, String> e : fields.entrySet()) {
            char code = e.getKey();
            String value = e.getValue();
            if (columnsTouched) {
                switch (code) {
                    case 'D', 'W', 'q' -> {
                        continue;
                    }
                    case 'M' -> value = mask.withholdNotices()
                            ? (notice ? "notice withheld by pgwarden: raised by code that may read masked values"
                                      : "error text withheld by pgwarden: raised by code that may read masked values")
                            : quotedParts(value, fields.getOrDefault('C', "").startsWith("42") ? statementText : null);
                    default -> {
                    }
                }
            }
            if (detect && (code == 'M' || code == 'D' || code == 'W' || code == 'H')) {
                value = ContentMasking.maskText(mask.rules(), value);
            }
            out.put(code, value);
        }
        return out;
    }

    static String quotedParts(String message, String statementText) {
        Matcher m = QUOTED.matcher(message);
        StringBuilder out = new StringBuilder(message.length());
        while (m.find()) {
            String inner = m.group(1);
            boolean fromStatement = !inner.isEmpty() && statementText != null && statementText.contains(inner);
            m.appendReplacement(out, Matcher.quoteReplacement(fromStatement ? m.group() : MASKED));
        }
        m.appendTail(out);
        return out.toString();
    }
}
