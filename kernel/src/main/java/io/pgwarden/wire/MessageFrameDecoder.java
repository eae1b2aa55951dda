package io.pgwarden.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Frames typed protocol messages (a type byte, then an Int32 length that counts itself)
 * into one {@link ByteBuf} each, the whole message including its header, as a retained
 * slice of what was read: nothing is copied, so a DataRow can be forwarded as the same
 * bytes. A length below 4 or above the cap fails the channel with a {@link
 * io.netty.handler.codec.DecoderException} at once (fail-fast), before the body is read.
 */
public final class MessageFrameDecoder extends LengthFieldBasedFrameDecoder {

    /** @param maxMessageSize the largest message accepted, header included */
    public MessageFrameDecoder(int maxMessageSize) {
        super(maxMessageSize, 1, 4, -4, 0, true);
    }

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (in.readableBytes() >= 5) {
            int length = in.getInt(in.readerIndex() + 1);
            if (length < 4) {
                in.skipBytes(in.readableBytes());
                throw new ProtocolViolationException("invalid message length " + length);
            }
        }
        return super.decode(ctx, in);
    }
}
