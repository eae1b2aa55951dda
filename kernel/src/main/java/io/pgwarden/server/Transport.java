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
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;

/** The network transport: io_uring or epoll where the kernel and native library allow, else Java NIO. */
record Transport(IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannel,
                 Class<? extends SocketChannel> socketChannel, String name) {

    static Transport epoll() {
        return new Transport(EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class, "epoll");
    }

    static Transport ioUring() {
        return new Transport(IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class, IoUringSocketChannel.class, "io_uring");
    }

    static Transport nio() {
        return new Transport(NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class, "nio");
    }

    /** @param preference auto, io_uring, epoll or nio */
    static Transport select(String preference) {
        return switch (preference.toLowerCase(Locale.ROOT)) {
            case "io_uring" -> IoUring.isAvailable() ? ioUring() : nio();
            case "epoll" -> Epoll.isAvailable() ? epoll() : nio();
            case "nio" -> nio();
            default -> Epoll.isAvailable() ? epoll() : IoUring.isAvailable() ? ioUring() : nio();
        };
    }

    EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory);
    }
}
