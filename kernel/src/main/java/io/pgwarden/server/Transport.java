package io.pgwarden.server;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.uring.IoUringDomainSocketChannel;
import io.pgwarden.upstream.UpstreamChannels;
import java.net.UnixDomainSocketAddress;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The network transport: io_uring or epoll where the kernel and native library allow, else Java NIO. */
record Transport(IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannel,
                 UpstreamChannels upstreamChannels, String name) {
    private static final Logger LOG = LoggerFactory.getLogger(Transport.class);

    static Transport epoll() {
        return new Transport(EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                new UpstreamChannels(EpollSocketChannel.class, EpollDomainSocketChannel.class, DomainSocketAddress::new), "epoll");
    }

    static Transport ioUring() {
        return new Transport(IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                new UpstreamChannels(IoUringSocketChannel.class, IoUringDomainSocketChannel.class, DomainSocketAddress::new), "io_uring");
    }

    static Transport nio() {
        return new Transport(NioIoHandler.newFactory(), NioServerSocketChannel.class,
                new UpstreamChannels(NioSocketChannel.class, NioDomainSocketChannel.class, UnixDomainSocketAddress::of), "nio");
    }

    /**
     * @param preference auto (epoll, else io_uring, else NIO), io_uring, epoll or nio; a
     *                   transport that is not available here falls back as auto does, with a warning
     */
    static Transport select(String preference) {
        String wanted = preference.toLowerCase(Locale.ROOT);
        switch (wanted) {
            case "io_uring" -> {
                if (IoUring.isAvailable()) {
                    return ioUring();
                }
                LOG.warn("io_uring transport unavailable ({}); falling back", IoUring.unavailabilityCause().toString());
            }
            case "epoll" -> {
                if (Epoll.isAvailable()) {
                    return epoll();
                }
                LOG.warn("epoll transport unavailable ({}); falling back", Epoll.unavailabilityCause().toString());
            }
            case "nio" -> {
                return nio();
            }
            case "auto" -> {
            }
            default -> LOG.warn("unknown transport \"{}\" (pgwarden.transport); using auto", preference);
        }
        return Epoll.isAvailable() ? epoll() : IoUring.isAvailable() ? ioUring() : nio();
    }

    EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory);
    }
}
