package io.pgwarden.recording;

/**
 * One event of a session as the event loop captured it: cheap to make (a copy of the bytes
 * the client was sent, or a few strings), decoded later by the writer ({@link EventEncoder}).
 *
 * @param kind   a backend message type ('T', 'D', 'C', 'E', 'N', 'Z', …) for what the client
 *               received, or one of {@link SessionRecorder}'s own kinds
 * @param micros since the session started
 * @param bytes  the message as sent (type byte and length included), or a Bind; may be null
 * @param text   a statement's text, a reason; may be null
 * @param detail a decision; may be null
 * @param count  a count (rows, messages), kind-specific
 * @param size   a byte count, kind-specific
 */
record CapturedEvent(byte kind, long micros, byte[] bytes, String text, String detail, long count, long size) {

    /** What the event costs in the writer's buffer, roughly: its bytes, its strings and the object. */
    long weight() {
        return 64 + (bytes == null ? 0 : bytes.length) + 2L * ((text == null ? 0 : text.length()) + (detail == null ? 0 : detail.length()));
    }
}
