package io.pgwarden.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Typed-message framing with hostile lengths; frames must be the very bytes that came in. */
class MessageFrameDecoderTest {
    private static final int MAX = 100;
    private final EmbeddedChannel channel = new EmbeddedChannel(new MessageFrameDecoder(MAX));

    @AfterEach
    void finish() {
        channel.finishAndReleaseAll();
    }

    private static ByteBuf query(String sql) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeByte('Q').writeInt(0).writeBytes(sql.getBytes(StandardCharsets.UTF_8)).writeByte(0);
        return buf.setInt(1, buf.writerIndex() - 1);
    }

    private static ByteBuf header(int length) {
        return Unpooled.buffer().writeByte('Q').writeInt(length);
    }

    @Test
    void framesAreRetainedSlicesOfTheOriginalBytesAndAreReleased() {
        ByteBuf in = Unpooled.buffer();
        ByteBuf q1 = query("SELECT 1");
        ByteBuf q2 = query("SELECT 2");
        ByteBuf sync = Unpooled.buffer().writeByte('S').writeInt(4);
        in.writeBytes(q1.duplicate()).writeBytes(q2.duplicate()).writeBytes(sync.duplicate());
        byte[] backing = in.array();

        assertThat(channel.writeInbound(in)).isTrue();
        ByteBuf f1 = channel.readInbound();
        ByteBuf f2 = channel.readInbound();
        ByteBuf f3 = channel.readInbound();
        assertThat(channel.<Object>readInbound()).isNull();

        assertThat(ByteBufUtil.equals(f1, q1)).isTrue();
        assertThat(ByteBufUtil.equals(f2, q2)).isTrue();
        assertThat(ByteBufUtil.equals(f3, sync)).isTrue();
        // No copy: every frame shares the array the bytes arrived in.
        assertThat(f1.array()).isSameAs(backing);
        assertThat(f2.array()).isSameAs(backing);
        assertThat(f3.array()).isSameAs(backing);

        assertThat(in.refCnt()).as("held by the three frames").isPositive();
        f1.release();
        f2.release();
        f3.release();
        assertThat(in.refCnt()).as("released once every frame is").isZero();
        q1.release();
        q2.release();
        sync.release();
    }

    @Test
    void truncatedMessageWaitsForMoreBytes() {
        ByteBuf whole = query("SELECT 42");
        int n = whole.readableBytes();
        assertThat(channel.writeInbound(whole.readRetainedSlice(3))).as("header incomplete").isFalse();
        assertThat(channel.writeInbound(whole.readRetainedSlice(n - 4))).as("body incomplete").isFalse();
        assertThat(channel.writeInbound(whole.readRetainedSlice(1))).isTrue();
        ByteBuf frame = channel.readInbound();
        assertThat(frame.readableBytes()).isEqualTo(n);
        assertThat(MessageReader.type(frame)).isEqualTo((byte) 'Q');
        frame.release();
        whole.release();
    }

    @Test
    void emptyBodyOfLengthFourIsAMessage() {
        channel.writeInbound(Unpooled.buffer().writeByte('S').writeInt(4));
        ByteBuf frame = channel.readInbound();
        assertThat(frame.readableBytes()).isEqualTo(5);
        frame.release();
    }

    @Test
    void lengthThreeIsAProtocolViolation() {
        ByteBuf in = header(3);
        assertThatThrownBy(() -> channel.writeInbound(in))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolViolationException.class).hasMessageContaining("invalid message length 3");
        assertThat(in.refCnt()).isZero();
    }

    @Test
    void lengthsBelowFourAndNegativeAreProtocolViolations() {
        for (int length : new int[] {0, 1, 2, -1, -4, Integer.MIN_VALUE}) {
            EmbeddedChannel ch = new EmbeddedChannel(new MessageFrameDecoder(MAX));
            ByteBuf in = header(length).writeBytes(new byte[16]);
            assertThatThrownBy(() -> ch.writeInbound(in)).as("length %d", length)
                    .cause().isInstanceOf(ProtocolViolationException.class)
                    .hasMessageContaining("invalid message length " + length);
            assertThat(in.refCnt()).isZero();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void largestAllowedMessageCountsTheTypeByte() {
        // MAX counts the whole message, type byte included: length MAX-1 fits exactly.
        ByteBuf in = header(MAX - 1).writeBytes(new byte[MAX - 5]);
        assertThat(channel.writeInbound(in)).isTrue();
        ByteBuf frame = channel.readInbound();
        assertThat(frame.readableBytes()).isEqualTo(MAX);
        frame.release();
    }

    @Test
    void overTheCapFailsAsSoonAsTheHeaderIsSeen() {
        // Only the header has arrived: fail-fast, without waiting for (or buffering) the body.
        ByteBuf in = header(MAX);
        assertThatThrownBy(() -> channel.writeInbound(in)).isInstanceOf(TooLongFrameException.class);
        assertThat(in.refCnt()).isZero();
    }

    @Test
    void integerMaxValueLengthFailsFast() {
        ByteBuf in = header(Integer.MAX_VALUE);
        assertThatThrownBy(() -> channel.writeInbound(in)).isInstanceOf(TooLongFrameException.class);
        assertThat(in.refCnt()).isZero();
    }

    @Test
    void messageAfterAValidOneWithBadLengthStillYieldsTheFirst() {
        ByteBuf in = query("SELECT 1");
        in.writeByte('Q').writeInt(2);
        assertThatThrownBy(() -> channel.writeInbound(in)).cause().isInstanceOf(ProtocolViolationException.class);
        ByteBuf first = channel.readInbound();
        assertThat(first).isNotNull();
        assertThat(MessageReader.type(first)).isEqualTo((byte) 'Q');
        first.release();
    }
}
