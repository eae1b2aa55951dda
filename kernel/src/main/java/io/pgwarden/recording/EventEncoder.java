package io.pgwarden.recording;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgwarden.masking.BinaryValues;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.MessageReader;
import io.pgwarden.wire.ProtocolViolationException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Turns one session's events, read back from its frames, into the JSON objects a replay shows
 * (the format is in docs/recording.md): the bytes the client was sent are decoded here, when
 * a recording is read, never on the data path. Keeps what decoding needs across events: the
 * current result's columns (for their types and formats) and how many of its rows were kept.
 */
final class EventEncoder {
    static final ObjectMapper JSON = new ObjectMapper();

    private long next;
    private List<MessageReader.Field> columns = List.of();
    private long rowsKept;
    private boolean inResult;

    ObjectNode encode(CapturedEvent e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("n", next++);
        o.put("t", e.micros());
        try {
            describe(e, o);
        } catch (ProtocolViolationException | IndexOutOfBoundsException | IllegalArgumentException bad) {
            // Never from PostgreSQL through the gateway's relay; kept as what it was.
            o.put("type", "undecodable");
            o.put("message_type", String.valueOf((char) e.kind()));
            o.put("bytes", e.bytes() == null ? 0 : e.bytes().length);
        }
        return o;
    }

    private void describe(CapturedEvent e, ObjectNode o) {
        ByteBuf message = e.bytes() == null ? null : Unpooled.wrappedBuffer(e.bytes());
        switch (e.kind()) {
            case SessionRecorder.START -> {
                o.put("type", "session_start");
                try {
                    o.setAll((ObjectNode) JSON.readTree(e.text()));
                } catch (java.io.IOException | ClassCastException bad) {
                    throw new IllegalArgumentException("a session start that does not decode", bad);
                }
            }
            case SessionRecorder.STATEMENT -> {
                o.put("type", "statement");
                o.put("protocol", e.count() == 1 ? "extended" : "simple");
                o.put("text", e.text());
                String[] decision = e.detail().split("\n", 2);
                o.put("decision", decision[0]);
                if (decision.length > 1) {
                    o.put("reason", decision[1]);
                }
                if (message != null) {
                    parameters(message, o.putArray("parameters"));
                }
            }
            case BackendMessages.ROW_DESCRIPTION -> {
                columns = MessageReader.rowDescription(message);
                rowsKept = 0;
                inResult = true;
                o.put("type", "columns");
                ArrayNode list = o.putArray("columns");
                for (MessageReader.Field f : columns) {
                    list.addObject().put("name", f.name()).put("type_oid", f.typeOid()).put("format", f.format());
                }
            }
            case BackendMessages.DATA_ROW -> {
                rowsKept++;
                o.put("type", "row");
                ArrayNode values = o.putArray("values");
                int[] ranges = MessageReader.dataRowValues(message);
                for (int i = 0; i < ranges.length; i += 2) {
                    int length = ranges[i + 1];
                    if (length < 0) {
                        values.addNull();
                        continue;
                    }
                    byte[] value = new byte[length];
                    message.getBytes(ranges[i], value);
                    MessageReader.Field field = i / 2 < columns.size() ? columns.get(i / 2) : null;
                    values.add(text(value, field != null && field.format() == 1, field == null ? 0 : field.typeOid()));
                }
            }
            case SessionRecorder.COPY_DATA -> {
                rowsKept++;
                o.put("type", "copy_data");
                byte[] data = new byte[message.readableBytes() - 5];
                message.getBytes(5, data);
                o.put("data", text(data, false, 0));
            }
            case BackendMessages.COMMAND_COMPLETE -> {
                String tag = MessageReader.commandTag(message);
                o.put("type", "complete");
                o.put("tag", tag);
                long rows = MessageReader.rowCount(tag);
                if (inResult && rows > rowsKept) {
                    o.put("rows_not_recorded", rows - rowsKept);
                }
                inResult = false;
                rowsKept = 0;
            }
            case BackendMessages.PORTAL_SUSPENDED -> o.put("type", "portal_suspended");
            case BackendMessages.EMPTY_QUERY_RESPONSE -> o.put("type", "empty_query");
            case BackendMessages.ERROR_RESPONSE, BackendMessages.NOTICE_RESPONSE -> {
                o.put("type", e.kind() == BackendMessages.ERROR_RESPONSE ? "error" : "notice");
                Map<Character, String> fields = MessageReader.errorFields(message);
                o.put("severity", fields.getOrDefault('V', fields.get('S')));
                o.put("sqlstate", fields.get('C'));
                o.put("message", fields.get('M'));
                putIfPresent(o, "detail", fields.get('D'));
                putIfPresent(o, "hint", fields.get('H'));
                inResult = false;
            }
            case SessionRecorder.COPY_IN_RESPONSE, SessionRecorder.COPY_OUT_RESPONSE -> {
                o.put("type", e.kind() == SessionRecorder.COPY_IN_RESPONSE ? "copy_in" : "copy_out");
                o.put("format", message.getByte(5) == 1 ? "binary" : "text");
                o.put("columns", message.getUnsignedShort(6));
                rowsKept = 0;
                inResult = e.kind() == SessionRecorder.COPY_OUT_RESPONSE;
            }
            case SessionRecorder.COPY_IN_DATA -> {
                o.put("type", "copy_in_data");
                o.put("end", e.detail());
                o.put("messages", e.count());
                o.put("bytes", e.size());
            }
            case BackendMessages.READY_FOR_QUERY -> {
                o.put("type", "ready");
                o.put("status", String.valueOf((char) MessageReader.readyForQueryStatus(message)));
            }
            case SessionRecorder.HELD -> {
                o.put("type", "held");
                o.put("text", e.text());
                o.put("request", e.detail());
            }
            case SessionRecorder.GAP -> {
                o.put("type", "gap");
                o.put("dropped_events", e.count());
            }
            case SessionRecorder.END -> {
                o.put("type", "session_end");
                o.put("reason", e.text());
            }
            default -> {
                o.put("type", "message");
                o.put("message_type", String.valueOf((char) e.kind()));
            }
        }
    }

    private static void parameters(ByteBuf bind, ArrayNode out) {
        MessageReader.BindParameters p = MessageReader.bindParameters(bind);
        for (int i = 0; i < p.values().size(); i++) {
            byte[] value = p.values().get(i);
            if (value == null) {
                out.addNull();
            } else {
                out.add(text(value, p.binary(i), 0));
            }
        }
    }

    /** A value as text: text format as UTF-8; binary as its text form where exact, else {@code \x} and hex. */
    private static String text(byte[] value, boolean binary, int typeOid) {
        if (binary) {
            return BinaryValues.decode(typeOid, value).orElseGet(() -> "\\x" + HexFormat.of().formatHex(value));
        }
        return new String(value, StandardCharsets.UTF_8);
    }

    private static void putIfPresent(ObjectNode o, String name, String value) {
        if (value != null) {
            o.put(name, value);
        }
    }
}
