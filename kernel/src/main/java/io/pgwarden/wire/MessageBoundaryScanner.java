package io.pgwarden.wire;

import io.netty.buffer.ByteBuf;

/**
 * Finds the message boundaries in a stream of reads of typed protocol messages (a type
 * byte, then an Int32 length that counts itself) without framing, copying or keeping
 * them: the reads themselves are forwarded as they are, and the scanner only tells its
 * listener where each message starts. A header split across two reads, and a body that
 * runs on into later reads, are carried over. Used where the gateway needs message types
 * but not message contents (the upstream's results); where it needs contents (a client's
 * statements) it frames with {@link MessageFrameDecoder}, which also caps the size.
 */
public final class MessageBoundaryScanner {
    private static final int HEADER = 5;

    /** Told of each message as its header is read. */
    public interface Listener {
        /**
         * @param type   the message type byte
         * @param whole  the complete message (header included) when it lies within this read,
         *               else null; a view valid only during the call
         */
        void messageStarts(byte type, ByteBuf whole);
    }

    private final Listener listener;
    /** Body bytes of the current message still to come in later reads. */
    private int remainingBody;
    private final byte[] partialHeader = new byte[HEADER];
    private int partialHeaderLength;

    public MessageBoundaryScanner(Listener listener) {
        this.listener = listener;
    }

    /**
     * Walks one read. Indexes of {@code chunk} are not moved.
     *
     * @throws ProtocolViolationException for a length below 4
     */
    public void scan(ByteBuf chunk) {
        int at = chunk.readerIndex();
        int end = chunk.writerIndex();
        int skip = Math.min(remainingBody, end - at);
        at += skip;
        remainingBody -= skip;
        while (at < end) {
            byte type;
            int length;
            int bodyStart;
            boolean whole;
            if (partialHeaderLength > 0 || end - at < HEADER) {
                int take = Math.min(HEADER - partialHeaderLength, end - at);
                chunk.getBytes(at, partialHeader, partialHeaderLength, take);
                partialHeaderLength += take;
                at += take;
                if (partialHeaderLength < HEADER) {
                    return;
                }
                partialHeaderLength = 0;
                type = partialHeader[0];
                length = ((partialHeader[1] & 0xFF) << 24) | ((partialHeader[2] & 0xFF) << 16)
                        | ((partialHeader[3] & 0xFF) << 8) | (partialHeader[4] & 0xFF);
                bodyStart = at;
                whole = false;
            } else {
                type = chunk.getByte(at);
                length = chunk.getInt(at + 1);
                bodyStart = at + HEADER;
                whole = length >= 4 && (long) bodyStart + length - 4 <= end;
            }
            if (length < 4) {
                throw new ProtocolViolationException("invalid message length " + length);
            }
            listener.messageStarts(type, whole ? chunk.slice(bodyStart - HEADER, HEADER + length - 4) : null);
            int body = length - 4;
            int available = Math.min(body, end - bodyStart);
            at = bodyStart + available;
            remainingBody = body - available;
        }
    }

    /** Whether the scanner stands between two messages (nothing split is pending). */
    public boolean atBoundary() {
        return remainingBody == 0 && partialHeaderLength == 0;
    }
}
