package io.pgwarden.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The first packet of a connection, fed as a hostile client would send it. */
class StartupPacketDecoderTest {
    private final EmbeddedChannel channel = new EmbeddedChannel(new StartupPacketDecoder());

    @AfterEach
    void finish() {
        channel.finishAndReleaseAll();
    }

    private static ByteBuf startup(int version, String... nameValues) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeInt(0).writeInt(version);
        for (String s : nameValues) {
            buf.writeBytes(s.getBytes(StandardCharsets.UTF_8)).writeByte(0);
        }
        buf.writeByte(0);
        return buf.setInt(0, buf.writerIndex());
    }

    private static ByteBuf header(int length, int code) {
        return Unpooled.buffer().writeInt(length).writeInt(code);
    }

    private void assertViolation(ByteBuf in, String message) {
        assertThatThrownBy(() -> channel.writeInbound(in))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolViolationException.class)
                .hasMessageContaining(message);
        // The session closes the connection after a violation; the bytes go with it.
        channel.finishAndReleaseAll();
        assertThat(in.refCnt()).as("input released").isZero();
    }

    @Test
    void invalidPacketIsReportedOnceNotAgainWhenTheChannelCloses_regression() {
        assertThatThrownBy(() -> channel.writeInbound(header(-1, 3 << 16).writeBytes(new byte[20])))
                .hasCauseInstanceOf(ProtocolViolationException.class);
        // Before the fix the undiscarded bytes were decoded again on close and threw again.
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void startupMessageParametersAreParsed() {
        channel.writeInbound(startup(3 << 16, "user", "agent", "database", "app", "application_name", "t",
                "options", "-c search_path=x"));
        StartupPacket.StartupMessage m = channel.readInbound();
        assertThat(m.majorVersion()).isEqualTo(3);
        assertThat(m.minorVersion()).isZero();
        assertThat(m.parameters()).containsExactlyInAnyOrderEntriesOf(Map.of("user", "agent", "database", "app",
                "application_name", "t", "options", "-c search_path=x"));
        assertThat(channel.<Object>readInbound()).isNull();
    }

    @Test
    void minorVersionAboveZeroIsAcceptedForNegotiation() {
        channel.writeInbound(startup((3 << 16) | 2, "user", "agent"));
        StartupPacket.StartupMessage m = channel.readInbound();
        assertThat(m.minorVersion()).isEqualTo(2);
    }

    @Test
    void truncatedPacketWaitsForMoreBytes() {
        ByteBuf whole = startup(3 << 16, "user", "agent");
        int n = whole.readableBytes();
        // Fewer than 8 bytes: not even the header.
        assertThat(channel.writeInbound(whole.readRetainedSlice(5))).isFalse();
        // Header complete, body not.
        assertThat(channel.writeInbound(whole.readRetainedSlice(n - 6))).isFalse();
        assertThat(channel.<Object>readInbound()).isNull();
        assertThat(channel.writeInbound(whole.readRetainedSlice(1))).isTrue();
        whole.release();
        StartupPacket.StartupMessage m = channel.readInbound();
        assertThat(m.parameters()).containsEntry("user", "agent");
    }

    @Test
    void sslAndGssRequestsAndCancel() {
        channel.writeInbound(header(8, StartupPacketDecoder.SSL_REQUEST_CODE));
        assertThat(channel.<Object>readInbound()).isInstanceOf(StartupPacket.SslRequest.class);
        channel.writeInbound(header(8, StartupPacketDecoder.GSSENC_REQUEST_CODE));
        assertThat(channel.<Object>readInbound()).isInstanceOf(StartupPacket.GssEncRequest.class);
        channel.writeInbound(header(16, StartupPacketDecoder.CANCEL_REQUEST_CODE).writeInt(1234).writeInt(-5));
        assertThat(channel.<Object>readInbound()).isEqualTo(new StartupPacket.CancelRequest(1234, -5));
    }

    @Test
    void bytesAfterSslRequestAreRejected_CVE_2021_23214() {
        ByteBuf in = header(8, StartupPacketDecoder.SSL_REQUEST_CODE).writeBytes(startup(3 << 16, "user", "x"));
        assertViolation(in, "unencrypted data after SSL request");
    }

    @Test
    void bytesAfterGssEncRequestAreRejected() {
        ByteBuf in = header(8, StartupPacketDecoder.GSSENC_REQUEST_CODE).writeByte(0x16);
        assertViolation(in, "unencrypted data after GSSAPI");
    }

    @Test
    void negativeLengthIsRejected() {
        assertViolation(header(-1, 3 << 16), "invalid length of startup packet");
    }

    @Test
    void lengthBelowEightIsRejected() {
        assertViolation(header(7, 3 << 16), "invalid length of startup packet");
        EmbeddedChannel other = new EmbeddedChannel(new StartupPacketDecoder());
        assertThatThrownBy(() -> other.writeInbound(header(3, 3 << 16))).hasCauseInstanceOf(ProtocolViolationException.class);
        other.finishAndReleaseAll();
    }

    @Test
    void lengthAboveTenThousandIsRejectedBeforeTheBodyArrives() {
        assertViolation(header(10_001, 3 << 16), "invalid length of startup packet");
    }

    @Test
    void integerMaxValueLengthIsRejected() {
        assertViolation(header(Integer.MAX_VALUE, 3 << 16), "invalid length of startup packet");
    }

    @Test
    void exactlyTenThousandIsAccepted() {
        ByteBuf buf = Unpooled.buffer().writeInt(10_000).writeInt(3 << 16);
        buf.writeBytes("user".getBytes(StandardCharsets.US_ASCII)).writeByte(0);
        String value = "v".repeat(10_000 - buf.writerIndex() - 2);
        buf.writeBytes(value.getBytes(StandardCharsets.US_ASCII)).writeByte(0).writeByte(0);
        assertThat(buf.writerIndex()).isEqualTo(10_000);
        channel.writeInbound(buf);
        StartupPacket.StartupMessage m = channel.readInbound();
        assertThat(m.parameters().get("user")).hasSize(value.length());
    }

    @Test
    void sslRequestWithWrongLengthIsRejected() {
        assertViolation(header(12, StartupPacketDecoder.SSL_REQUEST_CODE).writeInt(0), "invalid length");
    }

    @Test
    void cancelRequestWithWrongLengthIsRejected() {
        assertViolation(header(12, StartupPacketDecoder.CANCEL_REQUEST_CODE).writeInt(1), "invalid length");
    }

    @Test
    void unsupportedProtocolVersionsAreRejected() {
        ByteBuf v2 = startup(2 << 16, "user", "x");
        assertThatThrownBy(() -> channel.writeInbound(v2)).cause()
                .isInstanceOfSatisfying(ProtocolViolationException.class, e -> assertThat(e.unsupportedVersion()).isTrue())
                .hasMessageContaining("unsupported frontend protocol 2.0");
        EmbeddedChannel v4 = new EmbeddedChannel(new StartupPacketDecoder());
        assertThatThrownBy(() -> v4.writeInbound(startup(4 << 16, "user", "x")))
                .cause().hasMessageContaining("unsupported frontend protocol 4.0");
        v4.finishAndReleaseAll();
    }

    @Test
    void missingFinalTerminatorIsRejected() {
        ByteBuf buf = Unpooled.buffer().writeInt(0).writeInt(3 << 16);
        buf.writeBytes("user\0agent\0".getBytes(StandardCharsets.US_ASCII)); // no list terminator
        buf.setInt(0, buf.writerIndex());
        assertViolation(buf, "expected terminator");
    }

    @Test
    void valueWithoutTerminatorIsRejected() {
        ByteBuf buf = Unpooled.buffer().writeInt(0).writeInt(3 << 16);
        buf.writeBytes("user\0agent".getBytes(StandardCharsets.US_ASCII));
        buf.setInt(0, buf.writerIndex());
        assertViolation(buf, "expected terminator");
    }

    @Test
    void bytesAfterTheTerminatorInsideTheLengthAreRejected() {
        ByteBuf buf = Unpooled.buffer().writeInt(0).writeInt(3 << 16);
        buf.writeBytes("user\0agent\0\0junk".getBytes(StandardCharsets.US_ASCII));
        buf.setInt(0, buf.writerIndex());
        assertViolation(buf, "expected terminator");
    }

    @Test
    void onePacketPerDecodeSoWhatFollowsIsLeftForTheNextHandler() {
        ByteBuf two = startup(3 << 16, "user", "a");
        ByteBuf second = startup(3 << 16, "user", "b");
        two.writeBytes(second);
        second.release();
        channel.writeInbound(two);
        StartupPacket.StartupMessage first = channel.readInbound();
        assertThat(first.parameters()).containsEntry("user", "a");
        // Single-decode: the second packet stays undecoded until the session has answered the first.
        assertThat(channel.<Object>readInbound()).isNull();
    }
}
