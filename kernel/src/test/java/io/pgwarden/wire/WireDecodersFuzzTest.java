package io.pgwarden.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;

/**
 * Hostile bytes against everything that parses what a client or upstream sends. The only
 * acceptable outcomes are a decoded message or a protocol error: any other exception, a
 * hang or a leaked buffer is a bug. {@code mvn test} replays the stored inputs under
 * src/test/resources/io/pgwarden/wire/WireDecodersFuzzTestInputs; {@code JAZZER_FUZZ=1}
 * explores new ones for up to a minute per test.
 */
class WireDecodersFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void startupPacketDecoderOnlyDecodesOrRefuses(byte[] input) {
        if (input == null) {
            return;
        }
        EmbeddedChannel channel = new EmbeddedChannel(new StartupPacketDecoder());
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(input));
            Object decoded;
            while ((decoded = channel.readInbound()) != null) {
                assertThat(decoded).isInstanceOf(StartupPacket.class);
            }
        } catch (DecoderException e) {
            assertThat(e.getCause()).isInstanceOf(ProtocolViolationException.class);
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @FuzzTest(maxDuration = "30s")
    void frameDecoderYieldsWholeMessagesOrRefuses(byte[] input) {
        if (input == null) {
            return;
        }
        EmbeddedChannel channel = new EmbeddedChannel(new MessageFrameDecoder(8192));
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(input));
            ByteBuf frame;
            while ((frame = channel.readInbound()) != null) {
                try {
                    assertThat(frame.readableBytes()).isEqualTo(1 + frame.getInt(frame.readerIndex() + 1));
                } finally {
                    frame.release();
                }
            }
        } catch (DecoderException e) {
            // Too long, or a length below 4: both are protocol errors for the session.
            assertThat(e).satisfiesAnyOf(
                    x -> assertThat(x).isInstanceOf(io.netty.handler.codec.TooLongFrameException.class),
                    x -> assertThat(x.getCause()).isInstanceOf(ProtocolViolationException.class));
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @FuzzTest(maxDuration = "30s")
    void boundaryScannerAgreesWithTheFrameDecoder(byte[] input, int cut) {
        if (input == null) {
            return; // Jazzer's empty regression input
        }
        // The scanner, fed the same bytes in two reads, must see the same messages as the
        // frame decoder sees in one.
        StringBuilder scanned = new StringBuilder();
        boolean scannerRefused = false;
        BackendMessageScanner scanner = new BackendMessageScanner(new BackendMessageScanner.Listener() {
            @Override
            public boolean wants(byte type) {
                return true; // every message whole, so that each one is seen
            }

            @Override
            public void message(byte type, int start, ByteBuf message) {
                scanned.append((char) type);
            }
        });
        int at = input.length == 0 ? 0 : Math.floorMod(cut, input.length + 1);
        try {
            // As the relay does: what the first read kept back leads the second.
            ByteBuf first = Unpooled.wrappedBuffer(input, 0, at);
            int keepFrom = scanner.scan(first);
            ByteBuf second = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(input, keepFrom, at - keepFrom),
                    Unpooled.wrappedBuffer(input, at, input.length - at));
            scanner.scan(second);
        } catch (ProtocolViolationException e) {
            scannerRefused = true;
        }
        StringBuilder framed = new StringBuilder();
        boolean decoderRefused = false;
        EmbeddedChannel channel = new EmbeddedChannel(new MessageFrameDecoder(Integer.MAX_VALUE));
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(input));
            ByteBuf frame;
            while ((frame = channel.readInbound()) != null) {
                framed.append((char) frame.getByte(frame.readerIndex()));
                frame.release();
            }
        } catch (io.netty.handler.codec.TooLongFrameException e) {
            return; // a length near 2^31 overflows the decoder's int cap; the scanner has none
        } catch (DecoderException e) {
            decoderRefused = true;
        } finally {
            channel.finishAndReleaseAll();
        }
        if (decoderRefused) {
            assertThat(scannerRefused).as("a length the decoder refuses").isTrue();
        }
        if (!scannerRefused && !decoderRefused) {
            // Both show only complete messages, the scanner's held back until whole.
            assertThat(scanned.toString()).isEqualTo(framed.toString());
        }
        // The scanner alone refuses a message it must hold whole beyond MAX_WHOLE_MESSAGE.
    }
}
