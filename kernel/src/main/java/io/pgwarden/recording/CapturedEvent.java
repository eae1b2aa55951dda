package io.pgwarden.recording;

/**
 * One event of a session as read back from its frames ({@link EventFrames}), before
 * {@link EventEncoder} turns it into the JSON a replay shows.
 *
 * @param kind   a backend message type ('T', 'D', 'C', 'E', 'N', 'Z', …) for what the client
 *               received, or one of {@link SessionRecorder}'s own kinds
 * @param micros since the session started
 * @param bytes  the message as sent (type byte and length included), or a Bind; may be null
 * @param text   a statement's text, a reason, the session's facts; may be null
 * @param detail a decision (and its reason), a request id; may be null
 * @param count  a count (rows, messages), kind-specific
 * @param size   a byte count, kind-specific
 */
record CapturedEvent(byte kind, long micros, byte[] bytes, String text, String detail, long count, long size) {
}
