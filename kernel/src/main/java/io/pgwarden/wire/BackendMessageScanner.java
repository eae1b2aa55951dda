package io.pgwarden.wire;

import io.netty.buffer.ByteBuf;

/**
 * Walks the upstream's reads message by message without framing or copying them (the
 * reads themselves are forwarded), and hands the caller every message of a type it
 * {@linkplain Listener#wants wants} <em>whole</em>: when such a message is cut by the end of a
 * read, the scan stops at its first byte and reports how much of the read to keep back, so
 * the caller can prepend that to the next read instead of forwarding a part of it. The
 * messages worth seeing whole (CommandComplete, ErrorResponse, ReadyForQuery, …) are small;
 * everything else, DataRows above all, still passes in whatever pieces it arrived.
 */
public final class BackendMessageScanner {
    private static final int HEADER = 5;

    /** The largest message held back whole; PostgreSQL's errors and command tags are far smaller. */
    public static final int MAX_WHOLE_MESSAGE = 1 << 20;

    public interface Listener {
        /** Whether messages of this type must be seen whole. */
        boolean wants(byte type);

        /** Whether this message must be seen whole, knowing its length (header excluded of the type byte). */
        default boolean wants(byte type, int length) {
            return wants(type);
        }

        /** The largest message of a wanted type held back whole; a larger one is a protocol violation. */
        default int maxWhole(byte type) {
            return MAX_WHOLE_MESSAGE;
        }

        /**
         * A wanted message, complete within the read.
         *
         * @param start   index of its type byte in the read
         * @param message the message, header included; a view valid only during the call
         */
        void message(byte type, int start, ByteBuf message);
    }

    private final Listener listener;
    /** Body bytes of an unwanted message that continue in the next read. */
    private int remainingBody;

    public BackendMessageScanner(Listener listener) {
        this.listener = listener;
    }

    /**
     * Walks one read; indexes of {@code read} are not moved. A read that starts with bytes
     * kept back earlier must begin with all of them.
     *
     * @return the index from which the read must be kept back for the next one, or its
     *         writer index when all of it may be forwarded
     * @throws ProtocolViolationException for a length below 4 or a wanted message over
     *                                    {@link #MAX_WHOLE_MESSAGE}
     */
    public int scan(ByteBuf read) {
        int at = read.readerIndex();
        int end = read.writerIndex();
        int skip = Math.min(remainingBody, end - at);
        at += skip;
        remainingBody -= skip;
        while (at < end) {
            if (end - at < HEADER) {
                return at; // a header cut in two: keep it, so the type is known next time
            }
            byte type = read.getByte(at);
            int length = read.getInt(at + 1);
            if (length < 4) {
                throw new ProtocolViolationException("invalid message length " + length);
            }
            long messageEnd = (long) at + 1 + length;
            if (listener.wants(type, length)) {
                if (length > listener.maxWhole(type)) {
                    throw new ProtocolViolationException("message of type '" + (char) type + "' of " + length + " bytes");
                }
                if (messageEnd > end) {
                    return at;
                }
                listener.message(type, at, read.slice(at, 1 + length));
                at = (int) messageEnd;
            } else if (messageEnd > end) {
                remainingBody = (int) (messageEnd - end);
                return end;
            } else {
                at = (int) messageEnd;
            }
        }
        return end;
    }
}
