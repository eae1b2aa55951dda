package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgwarden.masking.BinaryValues;
import io.pgwarden.masking.ContentMasking;
import io.pgwarden.masking.MaskRules;
import io.pgwarden.masking.ResultMask;
import io.pgwarden.masking.ValueMasking;
import io.pgwarden.masking.ValueTypes;
import io.pgwarden.plugin.api.ValueType;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.MessageReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How the DataRows of one result are masked: an action per column, decided from the
 * result's RowDescription and the statement's {@link ResultMask}, and the rewriting of each
 * row. A result none of whose columns needs work has no layout, and its rows pass undecoded.
 *
 * <p>Values are masked in their text form: a binary-format value is decoded first where that
 * is exact ({@link BinaryValues}), and sent as NULL where it is not: never passed through.
 */
final class ResultLayout {
    private final ResultMask.Action[] actions;
    private final int[] types;
    /** Each column's type as maskers see it, looked up once per result rather than per value. */
    private final ValueType[] valueTypes;
    private final int[] formats;
    private final MaskRules rules;
    private final boolean detect;

    private ResultLayout(ResultMask.Action[] actions, int[] types, int[] formats, MaskRules rules) {
        this.actions = actions;
        this.types = types;
        this.valueTypes = new ValueType[types.length];
        for (int i = 0; i < types.length; i++) {
            valueTypes[i] = ValueTypes.of(types[i]);
        }
        this.formats = formats;
        this.rules = rules;
        this.detect = !rules.detection().isEmpty();
    }

    /**
     * The layout of a result, or null when its rows need no work.
     *
     * @param formats the result format codes of the Bind that made the portal (null: those of
     *                the RowDescription, which are right for a simple Query and a portal's Describe)
     */
    static ResultLayout of(List<MessageReader.Field> fields, ResultMask mask) {
        int n = fields.size();
        ResultMask.Action[] actions = new ResultMask.Action[n];
        int[] types = new int[n];
        int[] formats = new int[n];
        boolean work = !mask.rules().detection().isEmpty() && n > 0;
        for (int i = 0; i < n; i++) {
            MessageReader.Field f = fields.get(i);
            actions[i] = mask.column(i, n, f.tableOid(), f.attnum(), f.name());
            types[i] = f.typeOid();
            formats[i] = f.format();
            work |= actions[i] instanceof ResultMask.Mask;
        }
        return work ? new ResultLayout(actions, types, formats, mask.rules()) : null;
    }

    /** The row with every masked value replaced; a new buffer (the caller releases the original). */
    ByteBuf mask(ByteBuf row, ByteBufAllocator alloc) {
        int[] ranges = MessageReader.dataRowValues(row);
        int count = ranges.length / 2;
        ByteBuf out = alloc.buffer(row.readableBytes() + 16);
        out.writeByte(BackendMessages.DATA_ROW).writeInt(0).writeShort(count);
        int base = row.readerIndex();
        for (int i = 0; i < count; i++) {
            int offset = ranges[2 * i];
            int length = ranges[2 * i + 1];
            if (length < 0 || i >= actions.length) {
                // NULL stays NULL; a row wider than its description (never from PostgreSQL) is cut to it
                if (i >= actions.length) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(length);
                }
                continue;
            }
            ResultMask.Action action = actions[i];
            if (action instanceof ResultMask.Pass && !detect) {
                out.writeInt(length).writeBytes(row, base + offset, length);
                continue;
            }
            byte[] original = new byte[length];
            row.getBytes(base + offset, original);
            byte[] replaced = maskValue(action, i, original);
            if (replaced == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(replaced.length).writeBytes(replaced);
            }
        }
        out.setInt(1, out.writerIndex() - 1);
        return out;
    }

    /** A value's masked bytes in the column's format; the same array when nothing changed; null for NULL. */
    private byte[] maskValue(ResultMask.Action action, int column, byte[] original) {
        int type = types[column];
        boolean binary = formats[column] == 1;
        String text = binary ? BinaryValues.decode(type, original).orElse(null) : new String(original, StandardCharsets.UTF_8);
        if (text == null) {
            // A binary value the gateway cannot read: masked means NULL; with detection only, it
            // cannot be checked either, and is withheld the same way.
            return null;
        }
        ValueType valueType = valueTypes[column];
        String masked;
        if (action instanceof ResultMask.Mask m) {
            masked = ValueMasking.mask(m.masker(), text, valueType);
        } else {
            masked = text;
            for (MaskRules.DetectRule rule : rules.detection()) {
                masked = ContentMasking.mask(rule.detectors(), rule.masker(), masked, valueType);
                if (masked == null) {
                    break;
                }
            }
            if (masked != null && masked.equals(text)) {
                return original;
            }
        }
        if (masked == null) {
            return null;
        }
        return binary ? BinaryValues.encode(type, masked).orElse(null) : masked.getBytes(StandardCharsets.UTF_8);
    }
}
