package io.petrel.gateway.dns;

import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.HINFORecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * Authoritative answers for one region's names (dnsjava does the wire format):
 * <ul>
 *   <li>{@code api.<region>.<domain>}: A records of the zones whose API is healthy;</li>
 *   <li>{@code gw.<region>.<domain>} and {@code ns.<region>.<domain>}: A records of the live gateway instances;</li>
 *   <li>{@code <region>.<domain>}: SOA and NS.</li>
 * </ul>
 * Any other name under the apex is NXDOMAIN, a name outside it REFUSED (no recursion). Answers are
 * bounded against amplification: at most {@link #MAX_ADDRESSES} addresses, 512 bytes over UDP (at
 * most 1232 with EDNS, the truncation bit set beyond), and ANY gets the one-record answer of RFC 8482.
 * Packets that do not parse, and responses sent to us, are dropped.
 */
public final class DnsResponder {
    public static final long TTL_SECONDS = 5;
    static final int MAX_ADDRESSES = 8;
    static final int MAX_UDP_EDNS = 1232;
    private static final int MAX_UDP_PLAIN = 512;

    private final Name apex;
    private final Name api;
    private final Name gw;
    private final Name ns;
    private final SOARecord soa;
    private final Supplier<List<InetAddress>> apiAddresses;
    private final Supplier<List<InetAddress>> gatewayAddresses;
    private final BiConsumer<String, String> answered;

    /**
     * @param apiAddresses     the API addresses of healthy zones (never empty: all zones when none look healthy)
     * @param gatewayAddresses the addresses of live gateway instances
     * @param answered         told (query type, response code) of every answer, for metrics
     */
    public DnsResponder(String apex, Supplier<List<InetAddress>> apiAddresses, Supplier<List<InetAddress>> gatewayAddresses,
                        BiConsumer<String, String> answered) {
        try {
            this.apex = Name.fromString(requireNonNull(apex, "apex").endsWith(".") ? apex : apex + ".");
            this.api = Name.fromString("api", this.apex);
            this.gw = Name.fromString("gw", this.apex);
            this.ns = Name.fromString("ns", this.apex);
            Name hostmaster = Name.fromString("hostmaster", this.apex);
            long serial = (System.currentTimeMillis() / 1000) & 0xFFFFFFFFL;
            this.soa = new SOARecord(this.apex, DClass.IN, TTL_SECONDS, ns, hostmaster, serial, 60, 30, 3600, TTL_SECONDS);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("'" + apex + "' is not a DNS name: " + e.getMessage(), e);
        }
        this.apiAddresses = requireNonNull(apiAddresses, "apiAddresses");
        this.gatewayAddresses = requireNonNull(gatewayAddresses, "gatewayAddresses");
        this.answered = requireNonNull(answered, "answered");
    }

    /** The answer to one packet, or empty when the packet must be dropped. */
    public Optional<byte[]> answer(byte[] packet, int length, boolean tcp) {
        Message query;
        try {
            query = new Message(java.nio.ByteBuffer.wrap(packet, 0, length));
        } catch (IOException | RuntimeException e) {
            answered.accept("malformed", "dropped");
            return Optional.empty();
        }
        if (query.getHeader().getFlag(Flags.QR)) {
            answered.accept("response", "dropped");
            return Optional.empty();
        }
        Message reply = new Message(query.getHeader().getID());
        reply.getHeader().setFlag(Flags.QR);
        if (query.getHeader().getFlag(Flags.RD)) {
            reply.getHeader().setFlag(Flags.RD);
        }
        OPTRecord opt = query.getOPT();
        int limit = tcp ? 65535 : opt == null ? MAX_UDP_PLAIN : Math.max(MAX_UDP_PLAIN, Math.min(opt.getPayloadSize(), MAX_UDP_EDNS));
        Record question = query.getQuestion();
        int type;
        if (query.getHeader().getOpcode() != Opcode.QUERY) {
            type = -1;
            reply.getHeader().setOpcode(query.getHeader().getOpcode());
            reply.getHeader().setRcode(Rcode.NOTIMP);
        } else if (question == null || query.getHeader().getCount(Section.QUESTION) != 1) {
            type = -1;
            reply.getHeader().setRcode(Rcode.FORMERR);
        } else {
            type = question.getType();
            reply.addRecord(question, Section.QUESTION);
            resolve(question, reply);
        }
        if (opt != null) {
            reply.addRecord(new OPTRecord(MAX_UDP_EDNS, 0, 0), Section.ADDITIONAL);
        }
        answered.accept(type < 0 ? "invalid" : Type.string(type), Rcode.string(reply.getHeader().getRcode()));
        return Optional.of(reply.toWire(limit));
    }

    private void resolve(Record question, Message reply) {
        Name name = question.getName();
        int type = question.getType();
        if (question.getDClass() != DClass.IN && question.getDClass() != DClass.ANY) {
            reply.getHeader().setRcode(Rcode.REFUSED);
            return;
        }
        if (!name.subdomain(apex)) {
            reply.getHeader().setRcode(Rcode.REFUSED); // not ours, and we do not recurse
            return;
        }
        reply.getHeader().setFlag(Flags.AA);
        List<InetAddress> addresses;
        if (name.equals(api)) {
            addresses = apiAddresses.get();
        } else if (name.equals(gw) || name.equals(ns)) {
            addresses = gatewayAddresses.get();
        } else if (name.equals(apex)) {
            addresses = List.of();
        } else {
            reply.getHeader().setRcode(Rcode.NXDOMAIN);
            reply.addRecord(soa, Section.AUTHORITY);
            return;
        }
        if (type == Type.ANY) {
            reply.addRecord(new HINFORecord(name, DClass.IN, TTL_SECONDS, "RFC8482", ""), Section.ANSWER);
        } else if (type == Type.A && !addresses.isEmpty()) {
            for (InetAddress a : addresses.subList(0, Math.min(MAX_ADDRESSES, addresses.size()))) {
                reply.addRecord(new ARecord(name, DClass.IN, TTL_SECONDS, a), Section.ANSWER);
            }
        } else if (name.equals(apex) && type == Type.SOA) {
            reply.addRecord(soa, Section.ANSWER);
        } else if (name.equals(apex) && type == Type.NS) {
            reply.addRecord(new NSRecord(apex, DClass.IN, TTL_SECONDS, ns), Section.ANSWER);
            List<InetAddress> glue = gatewayAddresses.get();
            for (InetAddress a : glue.subList(0, Math.min(MAX_ADDRESSES, glue.size()))) {
                reply.addRecord(new ARecord(ns, DClass.IN, TTL_SECONDS, a), Section.ADDITIONAL);
            }
        } else {
            reply.addRecord(soa, Section.AUTHORITY); // the name exists, but has no record of that type
        }
    }
}
