package io.pgwarden.wire;

import java.util.Map;

/**
 * The untyped first packet of a connection (length, then a 32-bit code), see the
 * PostgreSQL docs "Message Formats": SSLRequest, GSSENCRequest, CancelRequest or
 * StartupMessage. (PostgreSQL 17's direct TLS is recognised before this, by the TLS layer.)
 */
public sealed interface StartupPacket {

    record SslRequest() implements StartupPacket {
    }

    record GssEncRequest() implements StartupPacket {
    }

    record CancelRequest(int processId, int secretKey) implements StartupPacket {
    }

    record StartupMessage(int majorVersion, int minorVersion, Map<String, String> parameters) implements StartupPacket {
        public StartupMessage {
            parameters = Map.copyOf(parameters);
        }
    }
}
