package io.pgwarden.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendMessageScannerTest {

    static byte[] message(char type, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = Unpooled.buffer().writeByte(type).writeInt(4 + b.length).writeBytes(b);
        byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** What a relay would do: the wanted messages seen (whole), and the bytes it forwarded. */
    record Relayed(List<String> wanted, byte[] forwarded, int keptAtEnd) {
    }

    /** Feeds {@code stream} cut at {@code cuts}, prepending what was kept back, as BackendRelay does. */
    static Relayed relay(byte[] stream, String wantedTypes, int... cuts) {
        List<String> wanted = new ArrayList<>();
        BackendMessageScanner scanner = new BackendMessageScanner(new BackendMessageScanner.Listener() {
            @Override
            public boolean wants(byte type) {
                return wantedTypes.indexOf(type) >= 0;
            }

            @Override
            public void message(byte type, int start, ByteBuf message) {
                assertThat(message.readableBytes()).isEqualTo(1 + message.getInt(message.readerIndex() + 1));
                wanted.add(message.toString(StandardCharsets.ISO_8859_1));
            }
        });
        ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
        byte[] held = new byte[0];
        List<int[]> reads = new ArrayList<>();
        int from = 0;
        for (int cut : cuts) {
            reads.add(new int[] {from, cut});
            from = cut;
        }
        reads.add(new int[] {from, stream.length});
        for (int[] r : reads) {
            byte[] read = concat(held, java.util.Arrays.copyOfRange(stream, r[0], r[1]));
            int keepFrom = scanner.scan(Unpooled.wrappedBuffer(read));
            forwarded.write(read, 0, keepFrom);
            held = java.util.Arrays.copyOfRange(read, keepFrom, read.length);
        }
        return new Relayed(wanted, forwarded.toByteArray(), held.length);
    }

    @Test
    void everyWantedMessageIsSeenWholeAndEveryByteForwardedOnceWhereverTheReadsAreCut() {
        byte[] dataRow = message('D', "\0\1\0\0\0\5hello");
        byte[] complete = message('C', "SELECT 1\0");
        byte[] ready = message('Z', "I");
        byte[] stream = concat(message('T', "\0\0"), dataRow, complete, dataRow, ready);
        for (int a = 0; a <= stream.length; a++) {
            for (int b = a; b <= stream.length; b++) {
                Relayed r = relay(stream, "CZ", a, b);
                assertThat(r.wanted()).as("cut at %d and %d", a, b).containsExactly(
                        new String(complete, StandardCharsets.ISO_8859_1), new String(ready, StandardCharsets.ISO_8859_1));
                assertThat(r.forwarded()).as("cut at %d and %d", a, b).isEqualTo(stream);
                assertThat(r.keptAtEnd()).isZero();
            }
        }
    }

    @Test
    void aWantedMessageCutByTheEndOfTheStreamIsKeptBackNotForwardedInPart() {
        byte[] ready = message('Z', "I");
        byte[] dataRow = message('D', "\0\1\0\0\0\5hello");
        byte[] stream = concat(dataRow, ready);
        Relayed r = relay(java.util.Arrays.copyOf(stream, stream.length - 1), "Z");
        assertThat(r.forwarded()).isEqualTo(dataRow);
        assertThat(r.keptAtEnd()).isEqualTo(ready.length - 1);
        assertThat(r.wanted()).isEmpty();
    }

    @Test
    void anUnwantedMessageIsForwardedAsItComesWithoutWaitingForItsEnd() {
        byte[] dataRow = message('D', "\0\1\0\0\0\5hello");
        Relayed firstPart = relay(java.util.Arrays.copyOf(dataRow, 7), "Z");
        assertThat(firstPart.forwarded()).hasSize(7);
        assertThat(firstPart.keptAtEnd()).isZero();
    }

    @Test
    void theReadsIndexesAreLeftAlone() {
        ByteBuf read = Unpooled.wrappedBuffer(message('C', "SELECT 1\0"));
        new BackendMessageScanner(new BackendMessageScanner.Listener() {
            @Override
            public boolean wants(byte type) {
                return true;
            }

            @Override
            public void message(byte type, int start, ByteBuf message) {
                message.skipBytes(message.readableBytes());
            }
        }).scan(read);
        assertThat(read.readerIndex()).isZero();
        assertThat(read.readableBytes()).isEqualTo(14);
    }

    @Test
    void lengthsBelowFourAndOversizedWantedMessagesAreRefused() {
        assertThatThrownBy(() -> relay(concat(new byte[] {'Z', 0, 0, 0, 3}), "Z"))
                .isInstanceOf(ProtocolViolationException.class).hasMessage("invalid message length 3");
        assertThatThrownBy(() -> relay(new byte[] {'D', -1, -1, -1, -1}, "Z"))
                .isInstanceOf(ProtocolViolationException.class);
        ByteBuf huge = Unpooled.buffer().writeByte('E').writeInt(BackendMessageScanner.MAX_WHOLE_MESSAGE + 1);
        byte[] header = new byte[5];
        huge.readBytes(header);
        assertThatThrownBy(() -> relay(header, "E")).isInstanceOf(ProtocolViolationException.class)
                .hasMessageContaining("message of type 'E'");
    }
}
