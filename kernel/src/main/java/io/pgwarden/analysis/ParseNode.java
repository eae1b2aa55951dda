package io.pgwarden.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * One node of libpg_query's JSON parse tree, with an account of the fields the walker has
 * read: {@link #done()} refuses a node that has a field nobody read, so a construct that a
 * newer grammar adds to a known node is refused instead of silently skipped.
 *
 * <p>The JSON follows pg_query.proto: a field of type {@code Node} holds a one-key object
 * naming the node type ({@code {"ColumnRef": {...}}}); a field of a specific message type
 * ({@code RangeVar relation}, {@code WithClause withClause}) holds the message itself,
 * without the type key; lists are arrays of Node objects; fields with default values (0,
 * false, "", empty lists) are left out; a NIL list element is {@code {}}.
 */
final class ParseNode {
    /**
     * Sees every (node type, field name) the walker asks for, present or not: a test checks
     * them against pg_query.proto so that a misspelt field cannot go unnoticed. Null outside
     * that test.
     */
    static volatile java.util.function.BiConsumer<String, String> fieldTrace;

    final String type;
    private final JsonNode body;
    private String[] read = new String[8];
    private int reads;

    private ParseNode(String type, JsonNode body) {
        this.type = type;
        this.body = body;
    }

    /** A Node: {@code {"Type": {...}}}; null for a NIL ({@code {}}) or a missing value. */
    static ParseNode unwrap(JsonNode wrapped, String context) throws UnanalyzableStatementException {
        if (wrapped == null || wrapped.isNull() || (wrapped.isObject() && wrapped.isEmpty())) {
            return null;
        }
        if (!wrapped.isObject() || wrapped.size() != 1) {
            throw UnanalyzableStatementException.unsupported(context);
        }
        var entry = wrapped.properties().iterator().next();
        if (!entry.getValue().isObject() || !isNodeType(entry.getKey())) {
            throw UnanalyzableStatementException.unsupported(context);
        }
        return new ParseNode(entry.getKey(), entry.getValue());
    }

    /** A message of a known type, as found in a typed field. */
    static ParseNode typed(String type, JsonNode body) throws UnanalyzableStatementException {
        if (!body.isObject()) {
            throw UnanalyzableStatementException.unsupported(type);
        }
        return new ParseNode(type, body);
    }

    /** Node type names start with a capital letter; field names (pg_query.proto json_name) never do. */
    static boolean isNodeType(String key) {
        return !key.isEmpty() && Character.isUpperCase(key.charAt(0));
    }

    private JsonNode take(String field) {
        trace(field);
        JsonNode value = body.get(field);
        if (value != null && !wasRead(field)) {
            if (reads == read.length) {
                read = java.util.Arrays.copyOf(read, reads * 2);
            }
            read[reads++] = field;
        }
        return value;
    }

    private void trace(String field) {
        var trace = fieldTrace;
        if (trace != null) {
            trace.accept(type, field);
        }
    }

    private boolean wasRead(String field) {
        for (int i = 0; i < reads; i++) {
            if (read[i].equals(field)) {
                return true;
            }
        }
        return false;
    }

    /** A field of type Node; null when absent or NIL. */
    ParseNode node(String field) throws UnanalyzableStatementException {
        return unwrap(take(field), type + "." + field);
    }

    /** A field of a specific message type; null when absent. */
    ParseNode object(String field, String messageType) throws UnanalyzableStatementException {
        JsonNode value = take(field);
        if (value == null) {
            return null;
        }
        if (!value.isObject()) {
            throw UnanalyzableStatementException.unsupported(type + "." + field);
        }
        return new ParseNode(messageType, value);
    }

    /** A field of type {@code repeated Node}; NIL elements are null. Empty when absent. */
    List<ParseNode> nodes(String field) throws UnanalyzableStatementException {
        JsonNode value = take(field);
        if (value == null) {
            return List.of();
        }
        if (!value.isArray()) {
            throw UnanalyzableStatementException.unsupported(type + "." + field);
        }
        List<ParseNode> nodes = new ArrayList<>(value.size());
        for (JsonNode item : value) {
            nodes.add(unwrap(item, type + "." + field));
        }
        return Collections.unmodifiableList(nodes);
    }

    /** A string (or enum) field; "" when absent. */
    String text(String field) throws UnanalyzableStatementException {
        JsonNode value = take(field);
        if (value == null) {
            return "";
        }
        if (!value.isTextual()) {
            throw UnanalyzableStatementException.unsupported(type + "." + field);
        }
        return value.textValue();
    }

    boolean bool(String field) throws UnanalyzableStatementException {
        JsonNode value = take(field);
        if (value == null) {
            return false;
        }
        if (!value.isBoolean()) {
            throw UnanalyzableStatementException.unsupported(type + "." + field);
        }
        return value.booleanValue();
    }

    long number(String field, long absent) throws UnanalyzableStatementException {
        JsonNode value = take(field);
        if (value == null) {
            return absent;
        }
        if (!value.isIntegralNumber()) {
            throw UnanalyzableStatementException.unsupported(type + "." + field);
        }
        return value.longValue();
    }

    /** Fields that carry nothing the analysis needs (locations, options, flags): each must be a scalar. */
    void scalars(String... fields) throws UnanalyzableStatementException {
        for (String field : fields) {
            JsonNode value = take(field);
            if (value != null && !value.isValueNode()) {
                throw UnanalyzableStatementException.unsupported(type + "." + field);
            }
        }
    }

    /** A string field's value without marking it read (the walker reads it properly later). */
    String peekText(String field) {
        trace(field);
        JsonNode value = body.get(field);
        return value != null && value.isTextual() ? value.textValue() : "";
    }

    boolean peekBool(String field) {
        trace(field);
        JsonNode value = body.get(field);
        return value != null && value.asBoolean(false);
    }

    /** The raw value of a field, for {@link StatementWalker}'s check of name-and-constant subtrees. */
    JsonNode raw(String field) {
        return take(field);
    }

    /** The whole body, for nodes checked as a whole; {@link #done()} is then satisfied. */
    JsonNode all() {
        for (Iterator<String> names = body.fieldNames(); names.hasNext();) {
            take(names.next());
        }
        return body;
    }

    /** Refuses the node if it has a field that the walker did not read. */
    void done() throws UnanalyzableStatementException {
        if (reads == body.size()) {
            return;
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!wasRead(name)) {
                throw UnanalyzableStatementException.unsupported(type + "." + name);
            }
        }
        throw UnanalyzableStatementException.unsupported(type);
    }
}
