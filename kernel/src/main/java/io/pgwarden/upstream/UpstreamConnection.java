package io.pgwarden.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.pgwarden.wire.MessageReader.BackendKey;
import java.util.List;

/**
 * A logged-in upstream connection, ready for queries.
 *
 * @param channel           the upstream channel; its pipeline holds only the login's frame decoder (and TLS)
 * @param startupMessages   ParameterStatus and NoticeResponse frames the server sent during
 *                          start-up, in order, to be replayed to the client (the receiver releases them)
 * @param backendKey        the server's real cancel key, never shown to the client
 * @param transactionStatus the status byte of the first ReadyForQuery
 * @param searchPath        the effective search_path at start: the existing schemas the
 *                          role may use, in order, without the implicit pg_catalog and pg_temp
 * @param probeRows         the rows of the session's extra login query (the masking catalog), as text
 */
public record UpstreamConnection(Channel channel, List<ByteBuf> startupMessages, BackendKey backendKey,
                                 byte transactionStatus, List<String> searchPath, List<List<String>> probeRows) {
    /** The pipeline name of the frame decoder used during login; the session replaces it. */
    public static final String LOGIN_FRAME_DECODER = "login-frames";
}
