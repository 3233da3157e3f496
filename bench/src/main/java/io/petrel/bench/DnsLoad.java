package io.petrel.bench;

import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A-record queries over UDP for one name, one connected socket per client. The query is encoded
 * once and only its ID is rewritten per send, so the driver's share of the CPU goes to parsing and
 * checking the answers rather than to building queries; every answer is checked to hold exactly the
 * expected addresses, so a fast but wrong server cannot look good.
 */
final class DnsLoad implements Workload, AutoCloseable {
    /** Answers to earlier, timed-out queries may still arrive; this many are skipped before giving up. */
    private static final int MAX_STALE_ANSWERS = 16;

    private final InetSocketAddress server;
    private final Set<InetAddress> expected;
    private final List<Client> clients = new ArrayList<>();

    /** One client's socket and buffers: used by that client's thread only. */
    private record Client(DatagramSocket socket, byte[] query, byte[] answer) {
        Client {
            requireNonNull(socket, "socket");
            requireNonNull(query, "query");
            requireNonNull(answer, "answer");
        }
    }

    DnsLoad(InetSocketAddress server, String name, Set<InetAddress> expected, int clientCount, Duration timeout) throws IOException {
        this.server = requireNonNull(server, "server");
        this.expected = Set.copyOf(requireNonNull(expected, "expected"));
        requireNonNull(name, "name");
        requireNonNull(timeout, "timeout");
        if (!server.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("the benchmark only queries DNS servers on this machine, not " + server);
        }
        byte[] query = Message.newQuery(Record.newRecord(Name.fromString(name.endsWith(".") ? name : name + "."), Type.A, DClass.IN)).toWire();
        try {
            for (int c = 0; c < clientCount; c++) {
                DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                clients.add(new Client(s, query.clone(), new byte[4096]));
                // Connected, so the kernel drops datagrams from anyone but the server.
                s.connect(server);
                s.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void once(int client, long seq) throws Exception {
        Client c = clients.get(client);
        int id = (int) (seq & 0xFFFF);
        c.query()[0] = (byte) (id >>> 8);
        c.query()[1] = (byte) id;
        c.socket().send(new DatagramPacket(c.query(), c.query().length));
        DatagramPacket in = new DatagramPacket(c.answer(), c.answer().length);
        for (int stale = 0; stale <= MAX_STALE_ANSWERS; stale++) {
            in.setLength(c.answer().length);
            try {
                c.socket().receive(in);
            } catch (SocketTimeoutException e) {
                throw new IOException("no answer from " + server + " within the timeout (query id " + id + ")");
            }
            if (in.getLength() < 2 || (((c.answer()[0] & 0xFF) << 8) | (c.answer()[1] & 0xFF)) != id) {
                continue;
            }
            check(new Message(ByteBuffer.wrap(c.answer(), 0, in.getLength())));
            return;
        }
        throw new IOException("only answers to other queries from " + server + " (query id " + id + ")");
    }

    private void check(Message answer) throws IOException {
        if (answer.getRcode() != Rcode.NOERROR) {
            throw new IOException("answered " + Rcode.string(answer.getRcode()));
        }
        Set<InetAddress> got = new HashSet<>();
        int records = 0;
        for (Record r : answer.getSection(Section.ANSWER)) {
            if (r instanceof ARecord a) {
                got.add(a.getAddress());
                records++;
            }
        }
        if (records != expected.size() || !got.equals(expected)) {
            throw new IOException("answered " + records + " A record(s) " + got + ", expected " + expected);
        }
    }

    @Override
    public void close() {
        clients.forEach(c -> c.socket().close());
    }
}
