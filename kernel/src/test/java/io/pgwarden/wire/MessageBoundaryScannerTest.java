package io.pgwarden.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageBoundaryScannerTest {

    private static byte[] message(char type, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = Unpooled.buffer().writeByte(type).writeInt(4 + b.length).writeBytes(b);
        byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuf buf = Unpooled.buffer();
        for (byte[] p : parts) {
            buf.writeBytes(p);
        }
        byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }

    /** What the listener saw: type, and the whole message's text when it lay in one read. */
    private record Seen(char type, String whole) {
    }

    private static List<Seen> scanInReads(byte[] stream, int... cuts) {
        List<Seen> seen = new ArrayList<>();
        MessageBoundaryScanner scanner = new MessageBoundaryScanner(
                (type, whole) -> seen.add(new Seen((char) type, whole == null ? null : whole.toString(StandardCharsets.ISO_8859_1))));
        int from = 0;
        for (int cut : cuts) {
            scanner.scan(Unpooled.wrappedBuffer(stream, from, cut - from));
            from = cut;
        }
        scanner.scan(Unpooled.wrappedBuffer(stream, from, stream.length - from));
        assertThat(scanner.atBoundary()).isTrue();
        return seen;
    }

    @Test
    void findsEveryMessageWhereverTheReadsAreCut() {
        byte[] stream = concat(message('Q', "SELECT 1\0"), message('S', ""), message('X', ""), message('P', "\0select $1\0\0\0"));
        for (int a = 1; a < stream.length; a++) {
            for (int b = a; b < stream.length; b++) {
                List<Seen> seen = scanInReads(stream, a, b);
                assertThat(seen).extracting(Seen::type).as("cut at %d and %d", a, b).containsExactly('Q', 'S', 'X', 'P');
            }
        }
    }

    @Test
    void aMessageWithinOneReadIsShownWhole() {
        byte[] q = message('Q', "SELECT 1\0");
        List<Seen> seen = scanInReads(concat(q, message('S', "")));
        assertThat(seen.getFirst().whole()).isEqualTo(new String(q, StandardCharsets.ISO_8859_1));
        List<Seen> split = scanInReads(q, 7);
        assertThat(split.getFirst().whole()).isNull();
    }

    @Test
    void theReadsIndexesAreLeftAlone() {
        ByteBuf read = Unpooled.wrappedBuffer(message('Q', "SELECT 1\0"));
        new MessageBoundaryScanner((type, whole) -> { }).scan(read);
        assertThat(read.readerIndex()).isZero();
        assertThat(read.readableBytes()).isEqualTo(14);
    }

    @Test
    void lengthsBelowFourAreRefusedAtTheHeader() {
        assertThatThrownBy(() -> new MessageBoundaryScanner((type, whole) -> { })
                .scan(Unpooled.buffer().writeByte('Z').writeInt(3)))
                .isInstanceOf(ProtocolViolationException.class).hasMessage("invalid message length 3");
        assertThatThrownBy(() -> new MessageBoundaryScanner((t, w) -> { })
                .scan(Unpooled.buffer().writeByte('D').writeInt(-1)))
                .isInstanceOf(ProtocolViolationException.class);
        // A split header is checked too.
        MessageBoundaryScanner split = new MessageBoundaryScanner((t, w) -> { });
        split.scan(Unpooled.buffer().writeByte('D').writeShort(0));
        assertThatThrownBy(() -> split.scan(Unpooled.buffer().writeShort(2)))
                .isInstanceOf(ProtocolViolationException.class);
    }
}
