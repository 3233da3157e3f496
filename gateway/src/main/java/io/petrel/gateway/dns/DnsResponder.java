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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * and, when a {@link Global} name is given, for it too: A records of the gateways of the region that
 * is primary now, with a TTL of {@link #GLOBAL_TTL_SECONDS} so that clients follow a promotion
 * quickly, in the zone that contains it (its parent), which gets an SOA, an NS
 * ({@code ns.<that zone>}, the live gateway instances) and the same short TTL. When that zone is
 * the region's own, the global name is simply one more name in it.
 *
 * <p>Any other name under an apex is NXDOMAIN, a name outside them REFUSED (no recursion). Answers are
 * bounded against amplification: at most {@link #MAX_ADDRESSES} addresses, 512 bytes over UDP (at
 * most 1232 with EDNS, the truncation bit set beyond), and ANY gets the one-record answer of RFC 8482.
 * Packets that do not parse, and responses sent to us, are dropped.
 */
public final class DnsResponder {
    public static final long TTL_SECONDS = 5;
    public static final long GLOBAL_TTL_SECONDS = 1;
    static final int MAX_ADDRESSES = 8;
    static final int MAX_UDP_EDNS = 1232;
    private static final int MAX_UDP_PLAIN = 512;

    /** The global name and where its addresses come from (never blocking: they are decided elsewhere). */
    public record Global(String name, Supplier<List<InetAddress>> addresses) {
        public Global {
            requireNonNull(name, "name");
            requireNonNull(addresses, "addresses");
        }
    }

    /** A name that has A records, their source and their TTL. */
    private record Host(Supplier<List<InetAddress>> addresses, long ttl) {
    }

    /** One zone we are authoritative for: its apex, SOA, name server name, and its names that have addresses. */
    private record Zone(Name apex, SOARecord soa, Name ns, long ttl, Map<Name, Host> hosts) {
    }

    /** The zones, most specific first, so that a region's zone nested in the global name's zone answers for its own names. */
    private final List<Zone> zones;
    private final Supplier<List<InetAddress>> gatewayAddresses;
    private final BiConsumer<String, String> answered;

    /**
     * @param apiAddresses     the API addresses of healthy zones (never empty: all zones when none look healthy)
     * @param gatewayAddresses the addresses of live gateway instances
     * @param answered         told (query type, response code) of every answer, for metrics
     */
    public DnsResponder(String apex, Supplier<List<InetAddress>> apiAddresses, Supplier<List<InetAddress>> gatewayAddresses,
                        BiConsumer<String, String> answered) {
        this(apex, apiAddresses, gatewayAddresses, Optional.empty(), answered);
    }

    /** As above, and authoritative for {@code global}'s name and the zone containing it too. */
    public DnsResponder(String apex, Supplier<List<InetAddress>> apiAddresses, Supplier<List<InetAddress>> gatewayAddresses,
                        Optional<Global> global, BiConsumer<String, String> answered) {
        this.gatewayAddresses = requireNonNull(gatewayAddresses, "gatewayAddresses");
        this.answered = requireNonNull(answered, "answered");
        requireNonNull(apiAddresses, "apiAddresses");
        requireNonNull(global, "global");
        Name regionApex = name(requireNonNull(apex, "apex"), Name.root);
        Map<Name, Host> regionHosts = new HashMap<>();
        regionHosts.put(name("api", regionApex), new Host(apiAddresses, TTL_SECONDS));
        regionHosts.put(name("gw", regionApex), new Host(gatewayAddresses, TTL_SECONDS));
        regionHosts.put(name("ns", regionApex), new Host(gatewayAddresses, TTL_SECONDS));
        List<Zone> zs = new ArrayList<>();
        if (global.isPresent()) {
            Name g = name(global.get().name(), Name.root);
            if (g.labels() < 3) {
                throw new IllegalArgumentException("the global name '" + global.get().name() + "' needs a parent zone below the root");
            }
            Host host = new Host(global.get().addresses(), GLOBAL_TTL_SECONDS);
            Name parent = new Name(g, 1);
            if (parent.equals(regionApex)) {
                if (regionHosts.containsKey(g)) {
                    throw new IllegalArgumentException("the global name '" + global.get().name() + "' is one of the region's own names");
                }
                regionHosts.put(g, host);
            } else if (g.subdomain(regionApex)) {
                throw new IllegalArgumentException("the global name '" + global.get().name() + "' must be in its own zone or directly in "
                        + regionApex);
            } else {
                Name ns = name("ns", parent);
                Map<Name, Host> globalHosts = new HashMap<>();
                globalHosts.put(g, host);
                globalHosts.put(ns, new Host(gatewayAddresses, GLOBAL_TTL_SECONDS));
                zs.add(zone(parent, ns, GLOBAL_TTL_SECONDS, globalHosts));
            }
        }
        zs.add(zone(regionApex, name("ns", regionApex), TTL_SECONDS, regionHosts));
        zs.sort(Comparator.comparingInt((Zone z) -> z.apex().labels()).reversed());
        this.zones = List.copyOf(zs);
    }

    private static Zone zone(Name apex, Name ns, long ttl, Map<Name, Host> hosts) {
        Name hostmaster = name("hostmaster", apex);
        long serial = (System.currentTimeMillis() / 1000) & 0xFFFFFFFFL;
        return new Zone(apex, new SOARecord(apex, DClass.IN, ttl, ns, hostmaster, serial, 60, 30, 3600, ttl), ns, ttl, Map.copyOf(hosts));
    }

    private static Name name(String s, Name origin) {
        try {
            return Name.fromString(origin == Name.root && !s.endsWith(".") ? s + "." : s, origin);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("'" + s + "' is not a DNS name: " + e.getMessage(), e);
        }
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
        Optional<Zone> zone = zones.stream().filter(z -> name.subdomain(z.apex())).findFirst();
        if (zone.isEmpty()) {
            reply.getHeader().setRcode(Rcode.REFUSED); // not ours, and we do not recurse
            return;
        }
        Zone z = zone.get();
        reply.getHeader().setFlag(Flags.AA);
        Host host = z.hosts().get(name);
        List<InetAddress> addresses;
        long ttl;
        if (host != null) {
            addresses = host.addresses().get();
            ttl = host.ttl();
        } else if (name.equals(z.apex())) {
            addresses = List.of();
            ttl = z.ttl();
        } else {
            reply.getHeader().setRcode(Rcode.NXDOMAIN);
            reply.addRecord(z.soa(), Section.AUTHORITY);
            return;
        }
        if (type == Type.ANY) {
            reply.addRecord(new HINFORecord(name, DClass.IN, ttl, "RFC8482", ""), Section.ANSWER);
        } else if (type == Type.A && !addresses.isEmpty()) {
            for (InetAddress a : addresses.subList(0, Math.min(MAX_ADDRESSES, addresses.size()))) {
                reply.addRecord(new ARecord(name, DClass.IN, ttl, a), Section.ANSWER);
            }
        } else if (name.equals(z.apex()) && type == Type.SOA) {
            reply.addRecord(z.soa(), Section.ANSWER);
        } else if (name.equals(z.apex()) && type == Type.NS) {
            reply.addRecord(new NSRecord(z.apex(), DClass.IN, ttl, z.ns()), Section.ANSWER);
            List<InetAddress> glue = gatewayAddresses.get();
            for (InetAddress a : glue.subList(0, Math.min(MAX_ADDRESSES, glue.size()))) {
                reply.addRecord(new ARecord(z.ns(), DClass.IN, ttl, a), Section.ADDITIONAL);
            }
        } else {
            reply.addRecord(z.soa(), Section.AUTHORITY); // the name exists, but has no record of that type (or none yet)
        }
    }
}
