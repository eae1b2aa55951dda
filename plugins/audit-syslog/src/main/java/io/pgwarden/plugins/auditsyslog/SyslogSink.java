package io.pgwarden.plugins.auditsyslog;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditSink;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;

/**
 * Sends each event as one syslog message. Over UDP (RFC 5426) a message is one datagram
 * and nothing acknowledges it: a batch counts as delivered once sent, and a receiver that
 * is down loses what it missed. Over TCP (RFC 6587, octet counting) the connection stays
 * open between batches; a batch counts as delivered once written and flushed, and any
 * error drops the connection, fails the batch (the gateway resends it) and reconnects on
 * the next attempt.
 */
final class SyslogSink implements AuditSink {
    enum Protocol { UDP, TCP }

    private final String host;
    private final int port;
    private final Protocol protocol;
    private final SyslogFormat format;
    private final int maxMessageSize;
    private final Duration timeout;
    private Socket tcp;
    private DatagramSocket udp;

    SyslogSink(String host, int port, Protocol protocol, SyslogFormat format, int maxMessageSize, Duration timeout) {
        this.host = host;
        this.port = port;
        this.protocol = protocol;
        this.format = format;
        this.maxMessageSize = maxMessageSize;
        this.timeout = timeout;
    }

    @Override
    public synchronized void deliver(List<AuditEvent> batch) throws IOException {
        if (protocol == Protocol.UDP) {
            sendUdp(batch);
        } else {
            sendTcp(batch);
        }
    }

    private void sendUdp(List<AuditEvent> batch) throws IOException {
        InetSocketAddress target = new InetSocketAddress(host, port);
        if (target.isUnresolved()) {
            throw new IOException("cannot resolve " + host);
        }
        if (udp == null) {
            udp = new DatagramSocket();
        }
        try {
            for (AuditEvent e : batch) {
                byte[] m = format.message(e, maxMessageSize);
                udp.send(new DatagramPacket(m, m.length, target));
            }
        } catch (IOException e) {
            udp.close();
            udp = null;
            throw e;
        }
    }

    private void sendTcp(List<AuditEvent> batch) throws IOException {
        try {
            if (tcp == null) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
                s.setTcpNoDelay(true);
                s.setKeepAlive(true);
                tcp = s;
            }
            OutputStream out = new java.io.BufferedOutputStream(tcp.getOutputStream(), 64 * 1024);
            for (AuditEvent e : batch) {
                out.write(SyslogFormat.frame(format.message(e, 0)));
            }
            out.flush();
        } catch (IOException e) {
            closeTcp();
            throw e;
        }
    }

    private void closeTcp() {
        if (tcp != null) {
            try {
                tcp.close();
            } catch (IOException ignored) {
                // dropping it anyway
            }
            tcp = null;
        }
    }

    @Override
    public synchronized void close() {
        closeTcp();
        if (udp != null) {
            udp.close();
            udp = null;
        }
    }
}
