package io.pgwarden.masking;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.pgwarden.masking.BuiltInDetector.TextStats;
import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.PiiDetector;
import io.pgwarden.plugin.api.PiiDetector.Finding;
import io.pgwarden.plugin.api.ValueType;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Content detection on one value: every finding of the detectors is replaced by the
 * masker's result for it, whatever the column.
 *
 * <ul>
 *   <li>TEXT: the text with each finding replaced (overlapping findings of several detectors
 *       are merged first);</li>
 *   <li>JSON: the document is parsed and every string and every object key is treated as
 *       text; a number that a detector flags (a card number stored as a JSON number) is
 *       replaced by the masker's result as a string. The result is re-serialised, so it is
 *       always a valid document; a value that does not parse becomes NULL if its text has a
 *       finding;</li>
 *   <li>NUMBER and OTHER: a value with any finding becomes NULL (a masked piece of a number
 *       or a date is not a valid one).</li>
 * </ul>
 *
 * <p>Wherever the masker returns NULL for a finding (or fails), the whole value becomes NULL,
 * except a JSON string, which becomes a JSON null. The value comes back as the same
 * instance only when nothing was found. Most values hold no candidate at all: the built-in
 * detectors first look at one pass's statistics (no {@code @}, too few digits) and skip
 * their scans, and no string or list is made for such a value.
 */
public final class ContentMasking {
    private static final Logger LOG = LoggerFactory.getLogger(ContentMasking.class);
    /** Findings inside JSON strings and keys are masked as text. */
    private static final ValueType PIECE = ValueTypes.of(ValueTypes.TEXT);
    /** Numbers are read exactly (no float rounding, trailing zeros kept) so an unchanged one is written back as it was. */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();

    private ContentMasking() {
    }

    /** Thrown inside a walk when a finding cannot be masked: the whole value becomes NULL. */
    private static final class Unmaskable extends Exception {
        private static final long serialVersionUID = 1L;
        static final Unmaskable INSTANCE = new Unmaskable();

        private Unmaskable() {
            super(null, null, false, false);
        }
    }

    private static final ValueType TEXT = ValueTypes.of(ValueTypes.TEXT);

    /**
     * Free text (a notification payload, a server message) with every detection rule of a
     * policy applied in turn; a finding whose masker gives NULL leaves {@code [masked]}.
     */
    public static String maskText(MaskRules rules, String text) {
        String out = text;
        for (MaskRules.DetectRule rule : rules.detection()) {
            String masked = mask(rule.detectors(), rule.masker(), out, TEXT);
            out = masked == null ? "[masked]" : masked;
        }
        return out;
    }

    /**
     * @param value the value in text form, not null
     * @return {@code value} itself when nothing was found; else the masked value, or null for SQL NULL
     */
    public static String mask(List<PiiDetector> detectors, Masker masker, String value, ValueType type) {
        try {
            return switch (type.kind()) {
                case TEXT -> maskText(detectors, masker, value, type);
                case JSON -> maskJson(detectors, masker, value);
                case NUMBER, OTHER -> findings(detectors, value).isEmpty() ? value : null;
            };
        } catch (Unmaskable e) {
            return null;
        }
    }

    private static String maskText(List<PiiDetector> detectors, Masker masker, String text, ValueType type)
            throws Unmaskable {
        List<Finding> findings = findings(detectors, text);
        if (findings.isEmpty()) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length() + 16);
        int at = 0;
        for (Finding f : findings) {
            String replacement = ValueMasking.mask(masker, text.substring(f.start(), f.end()), type);
            if (replacement == null) {
                throw Unmaskable.INSTANCE;
            }
            sb.append(text, at, f.start()).append(replacement);
            at = f.end();
        }
        return sb.append(text, at, text.length()).toString();
    }

    private static String maskJson(List<PiiDetector> detectors, Masker masker, String document) throws Unmaskable {
        // JSON escapes (\\u0040 for @, \\u0034 for 4) hide characters from the statistics of the raw text.
        if (!document.contains("\\u") && !anyMayMatch(detectors, TextStats.of(document))) {
            return document;
        }
        JsonNode root;
        try {
            root = JSON.readTree(document);
        } catch (JsonProcessingException e) {
            // Not from PostgreSQL's json output; treated as text that must not leak.
            if (findings(detectors, document).isEmpty()) {
                return document;
            }
            throw Unmaskable.INSTANCE;
        }
        JsonNode masked = walk(detectors, masker, root);
        if (masked == root) {
            return document;
        }
        try {
            return JSON.writeValueAsString(masked);
        } catch (JsonProcessingException e) {
            throw Unmaskable.INSTANCE;
        }
    }

    /** {@code node} itself when nothing in it was found, else a masked copy. */
    private static JsonNode walk(List<PiiDetector> detectors, Masker masker, JsonNode node) throws Unmaskable {
        if (node instanceof ObjectNode object) {
            ObjectNode copy = null;
            int index = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); index++) {
                Map.Entry<String, JsonNode> field = it.next();
                String key = maskText(detectors, masker, field.getKey(), PIECE);
                JsonNode value = walk(detectors, masker, field.getValue());
                if (copy == null && (key != field.getKey() || value != field.getValue())) {
                    copy = JSON.getNodeFactory().objectNode();
                    copyFirst(object, index, copy);
                }
                if (copy != null) {
                    copy.set(key, value);
                }
            }
            return copy != null ? copy : object;
        }
        if (node instanceof ArrayNode array) {
            ArrayNode copy = null;
            for (int i = 0; i < array.size(); i++) {
                JsonNode element = array.get(i);
                JsonNode value = walk(detectors, masker, element);
                if (copy == null && value != element) {
                    copy = JSON.getNodeFactory().arrayNode(array.size());
                    for (int k = 0; k < i; k++) {
                        copy.add(array.get(k));
                    }
                }
                if (copy != null) {
                    copy.add(value);
                }
            }
            return copy != null ? copy : array;
        }
        if (node instanceof TextNode text) {
            try {
                String masked = maskText(detectors, masker, text.textValue(), PIECE);
                return masked == text.textValue() ? text : TextNode.valueOf(masked);
            } catch (Unmaskable e) {
                return NullNode.getInstance();
            }
        }
        if (node.isNumber()) {
            String number = node.asText();
            if (findings(detectors, number).isEmpty()) {
                return node;
            }
            String masked = ValueMasking.mask(masker, number, PIECE);
            return masked == null ? NullNode.getInstance() : TextNode.valueOf(masked);
        }
        return node;
    }

    private static void copyFirst(ObjectNode from, int count, ObjectNode to) {
        Iterator<Map.Entry<String, JsonNode>> it = from.fields();
        for (int i = 0; i < count; i++) {
            Map.Entry<String, JsonNode> e = it.next();
            to.set(e.getKey(), e.getValue());
        }
    }

    private static boolean anyMayMatch(List<PiiDetector> detectors, TextStats stats) {
        for (int i = 0, n = detectors.size(); i < n; i++) {
            PiiDetector d = detectors.get(i);
            if (!(d instanceof BuiltInDetector b) || b.mayMatch(stats)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The findings of all detectors in {@code text}, sorted and with overlaps merged; an
     * empty list (not allocated) when there are none.
     */
    static List<Finding> findings(List<PiiDetector> detectors, String text) throws Unmaskable {
        TextStats stats = null;
        List<Finding> all = null;
        for (int i = 0, n = detectors.size(); i < n; i++) {
            PiiDetector d = detectors.get(i);
            if (d instanceof BuiltInDetector b) {
                if (stats == null) {
                    stats = TextStats.of(text);
                }
                if (!b.mayMatch(stats)) {
                    continue;
                }
            }
            List<Finding> found = find(d, text);
            if (!found.isEmpty()) {
                if (all == null) {
                    all = new ArrayList<>(found.size() + 2);
                }
                all.addAll(found);
            }
        }
        return all == null ? List.of() : merged(all);
    }

    /** One detector's findings, checked: a detector that fails or answers nonsense makes the value unmaskable. */
    private static List<Finding> find(PiiDetector detector, String text) throws Unmaskable {
        List<Finding> found;
        try {
            found = detector.find(text);
        } catch (RuntimeException | StackOverflowError e) {
            LOG.warn("PII detector {} failed on a value, which is sent as NULL: {}", detector.kind(), e.getClass().getName());
            throw Unmaskable.INSTANCE;
        }
        if (found == null) {
            return List.of();
        }
        for (Finding f : found) {
            if (f == null || f.end() > text.length()) {
                LOG.warn("PII detector {} reported a finding outside the value, which is sent as NULL", detector.kind());
                throw Unmaskable.INSTANCE;
            }
        }
        return found;
    }

    private static List<Finding> merged(List<Finding> all) {
        if (all.size() == 1) {
            return all;
        }
        all.sort((a, b) -> a.start() != b.start() ? Integer.compare(a.start(), b.start()) : Integer.compare(b.end(), a.end()));
        List<Finding> merged = new ArrayList<>(all.size());
        Finding current = all.getFirst();
        for (int i = 1; i < all.size(); i++) {
            Finding next = all.get(i);
            if (next.start() < current.end()) {
                current = new Finding(current.start(), Math.max(current.end(), next.end()));
            } else {
                merged.add(current);
                current = next;
            }
        }
        merged.add(current);
        return merged;
    }
}
