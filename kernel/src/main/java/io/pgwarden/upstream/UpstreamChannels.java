package io.pgwarden.upstream;

import io.netty.channel.Channel;
import java.net.SocketAddress;
import java.util.function.Function;

/**
 * The channel types the network transport offers for reaching an upstream: TCP, and Unix
 * domain sockets for a database on the same machine (an upstream whose host is a folder,
 * as in libpq, means the socket {@code <folder>/.s.PGSQL.<port>}).
 *
 * @param unixAddress makes the transport's address type from a socket file's path
 */
public record UpstreamChannels(Class<? extends Channel> tcp, Class<? extends Channel> unix,
                               Function<String, SocketAddress> unixAddress) {
}
