package io.petrel.gateway.dns;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;

import static java.util.Objects.requireNonNull;

/**
 * Serves a {@link DnsResponder} over UDP and TCP on each given address, with SO_REUSEPORT so that
 * every gateway instance of a machine can share one address. TCP connections are bounded in number,
 * in time (5 s without a query closes one) and in queries (64 each).
 */
public final class DnsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DnsServer.class);
    private static final int MAX_TCP_CONNECTIONS = 64;
    private static final int TCP_IDLE_MS = 5_000;
    private static final int MAX_QUERIES_PER_CONNECTION = 64;

    private final DnsResponder responder;
    private final List<DatagramSocket> udp = new ArrayList<>();
    private final List<ServerSocket> tcp = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Semaphore tcpSlots = new Semaphore(MAX_TCP_CONNECTIONS);
    private volatile boolean closed;

    public DnsServer(DnsResponder responder) {
        this.responder = requireNonNull(responder, "responder");
    }

    /** Binds UDP and TCP on {@code address}; returns the port bound (useful when asked for 0). */
    public int listen(InetSocketAddress address) throws IOException {
        DatagramSocket u = new DatagramSocket(null);
        u.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        u.bind(address);
        int port = u.getLocalPort();
        ServerSocket t = new ServerSocket();
        t.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        t.setReuseAddress(true);
        try {
            t.bind(new InetSocketAddress(address.getAddress(), port), 64);
        } catch (IOException e) {
            u.close();
            throw e;
        }
        udp.add(u);
        tcp.add(t);
        threads.add(Thread.ofPlatform().daemon().name("dns-udp-" + address).start(() -> serveUdp(u)));
        threads.add(Thread.ofPlatform().daemon().name("dns-tcp-" + address).start(() -> serveTcp(t)));
        return port;
    }

    private void serveUdp(DatagramSocket socket) {
        byte[] buffer = new byte[4096];
        DatagramPacket in = new DatagramPacket(buffer, buffer.length);
        while (!closed) {
            try {
                in.setLength(buffer.length);
                socket.receive(in);
                Optional<byte[]> reply = responder.answer(buffer, in.getLength(), false);
                if (reply.isPresent()) {
                    socket.send(new DatagramPacket(reply.get(), reply.get().length, in.getSocketAddress()));
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.debug("dns: UDP packet not answered: {}", e.toString());
                }
            }
        }
    }

    private void serveTcp(ServerSocket server) {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                continue;
            }
            if (!tcpSlots.tryAcquire()) {
                close(s);
                continue;
            }
            Thread.ofVirtual().name("dns-tcp-conn").start(() -> {
                try {
                    serveConnection(s);
                } finally {
                    tcpSlots.release();
                    close(s);
                }
            });
        }
    }

    private void serveConnection(Socket s) {
        try {
            s.setSoTimeout(TCP_IDLE_MS);
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            for (int i = 0; i < MAX_QUERIES_PER_CONNECTION && !closed; i++) {
                int length = in.readUnsignedShort();
                byte[] query = in.readNBytes(length);
                if (query.length < length) {
                    return;
                }
                Optional<byte[]> reply = responder.answer(query, query.length, true);
                if (reply.isEmpty()) {
                    return; // garbage: the stream cannot be trusted any further
                }
                out.writeShort(reply.get().length);
                out.write(reply.get());
                out.flush();
            }
        } catch (EOFException | SocketTimeoutException e) {
            // the client is done, or too slow
        } catch (IOException e) {
            LOG.debug("dns: TCP connection ended: {}", e.toString());
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() {
        closed = true;
        udp.forEach(DatagramSocket::close);
        for (ServerSocket t : tcp) {
            try {
                t.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
