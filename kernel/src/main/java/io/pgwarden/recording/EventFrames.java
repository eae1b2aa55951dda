package io.pgwarden.recording;

import io.netty.buffer.ByteBuf;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The stored form of captured events: each event a frame, appended to a growing byte array
 * on the event loop (one copy of the message bytes, no objects per event), kept as is by the
 * writer (which only compresses and chains it), and decoded only when a recording is read.
 *
 * <pre>
 * kind    1 byte     a backend message type, or one of SessionRecorder's own kinds
 * micros  8 bytes    since the session started
 * bytes   4-byte length (-1: none), then the bytes (a message as sent, a Bind)
 * text    4-byte length (-1: none), then UTF-8
 * detail  4-byte length (-1: none), then UTF-8
 * count   8 bytes
 * size    8 bytes
 * </pre>
 *
 * Not thread-safe: filled on one event loop, then handed over whole.
 */
final class EventFrames {
    private byte[] buf;
    private int size;

    EventFrames(int capacity) {
        buf = new byte[capacity];
    }

    int size() {
        return size;
    }

    byte[] array() {
        return buf;
    }

    void add(byte kind, long micros, ByteBuf message, String text, String detail, long count, long bytes) {
        int length = message == null ? 0 : message.readableBytes();
        byte[] t = text == null ? null : text.getBytes(StandardCharsets.UTF_8);
        byte[] d = detail == null ? null : detail.getBytes(StandardCharsets.UTF_8);
        ensure(1 + 8 + 12 + length + (t == null ? 0 : t.length) + (d == null ? 0 : d.length) + 16);
        buf[size++] = kind;
        putLong(micros);
        if (message == null) {
            putInt(-1);
        } else {
            putInt(length);
            message.getBytes(message.readerIndex(), buf, size, length);
            size += length;
        }
        putBytes(t);
        putBytes(d);
        putLong(count);
        putLong(bytes);
    }

    private void putBytes(byte[] b) {
        if (b == null) {
            putInt(-1);
        } else {
            putInt(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }
    }

    private void putInt(int v) {
        buf[size++] = (byte) (v >>> 24);
        buf[size++] = (byte) (v >>> 16);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
    }

    private void putLong(long v) {
        putInt((int) (v >>> 32));
        putInt((int) v);
    }

    private void ensure(int more) {
        if (size + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
        }
    }

    /** Decodes frames (a chunk's uncompressed payload). @throws IllegalArgumentException when they do not decode */
    static List<CapturedEvent> decode(byte[] frames) {
        ByteBuffer in = ByteBuffer.wrap(frames);
        List<CapturedEvent> events = new ArrayList<>();
        try {
            while (in.hasRemaining()) {
                byte kind = in.get();
                long micros = in.getLong();
                byte[] bytes = bytes(in);
                byte[] text = bytes(in);
                byte[] detail = bytes(in);
                events.add(new CapturedEvent(kind, micros, bytes, text == null ? null : new String(text, StandardCharsets.UTF_8),
                        detail == null ? null : new String(detail, StandardCharsets.UTF_8), in.getLong(), in.getLong()));
            }
        } catch (BufferUnderflowException | NegativeArraySizeException | IllegalArgumentException e) {
            throw new IllegalArgumentException("event frames do not decode", e);
        }
        return events;
    }

    private static byte[] bytes(ByteBuffer in) {
        int length = in.getInt();
        if (length < -1) {
            throw new IllegalArgumentException("negative length");
        }
        if (length == -1) {
            return null;
        }
        byte[] b = new byte[length];
        in.get(b);
        return b;
    }
}
