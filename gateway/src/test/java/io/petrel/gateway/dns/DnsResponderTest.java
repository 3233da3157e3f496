package io.petrel.gateway.dns;

import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DnsResponderTest {
    private final List<InetAddress> zones = new ArrayList<>(List.of(ip("127.0.1.1"), ip("127.0.2.1"), ip("127.0.3.1")));
    private final List<String> answered = new ArrayList<>();
    private final DnsResponder dns = new DnsResponder("local.petrel.internal", () -> zones, () -> List.of(ip("127.0.0.11"), ip("127.0.0.12")),
            (type, rcode) -> answered.add(type + "/" + rcode));

    @Test
    void apiAnswersWithTheHealthyZonesAuthoritativelyWithATtlOfFiveSeconds() throws Exception {
        Message m = ask("api.local.petrel.internal.", Type.A);
        assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(m.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(m.getHeader().getFlag(Flags.RA)).as("no recursion").isFalse();
        assertThat(m.getSection(Section.ANSWER)).extracting(r -> r.rdataToString()).containsExactly("127.0.1.1", "127.0.2.1", "127.0.3.1");
        assertThat(m.getSection(Section.ANSWER)).allMatch(r -> r.getTTL() == 5);
        zones.remove(1);
        assertThat(ask("API.local.petrel.internal.", Type.A).getSection(Section.ANSWER)).hasSize(2);
        assertThat(answered).contains("A/NOERROR");
    }

    @Test
    void gatewaysSoaAndNs() throws Exception {
        assertThat(ask("gw.local.petrel.internal.", Type.A).getSection(Section.ANSWER)).extracting(Record::rdataToString)
                .containsExactly("127.0.0.11", "127.0.0.12");
        Message soa = ask("local.petrel.internal.", Type.SOA);
        assertThat(soa.getSection(Section.ANSWER)).singleElement().satisfies(r -> assertThat(r.getType()).isEqualTo(Type.SOA));
        Message ns = ask("local.petrel.internal.", Type.NS);
        assertThat(ns.getSection(Section.ANSWER)).singleElement().satisfies(r -> assertThat(r.rdataToString()).isEqualTo("ns.local.petrel.internal."));
        assertThat(ns.getSection(Section.ADDITIONAL)).hasSize(2);
    }

    @Test
    void unknownNamesAreNxdomainForeignNamesRefusedAndOtherTypesEmpty() throws Exception {
        Message nx = ask("nope.local.petrel.internal.", Type.A);
        assertThat(nx.getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(nx.getSection(Section.AUTHORITY)).singleElement().satisfies(r -> assertThat(r.getType()).isEqualTo(Type.SOA));
        assertThat(ask("example.com.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(ask("petrel.internal.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
        Message aaaa = ask("api.local.petrel.internal.", Type.AAAA);
        assertThat(aaaa.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(aaaa.getSection(Section.ANSWER)).isEmpty();
        assertThat(aaaa.getSection(Section.AUTHORITY)).hasSize(1);
    }

    @Test
    void answersAreBoundedAgainstAmplification() throws Exception {
        Message any = ask("api.local.petrel.internal.", Type.ANY);
        assertThat(any.getSection(Section.ANSWER)).singleElement().satisfies(r -> assertThat(r.getType()).isEqualTo(Type.HINFO));
        for (int i = 4; i <= 40; i++) {
            zones.add(ip("127.0." + i + ".1"));
        }
        Message many = ask("api.local.petrel.internal.", Type.A);
        assertThat(many.getSection(Section.ANSWER)).hasSize(DnsResponder.MAX_ADDRESSES);
        Message q = query("api.local.petrel.internal.", Type.A);
        q.addRecord(new OPTRecord(65000, 0, 0), Section.ADDITIONAL);
        byte[] wire = q.toWire();
        byte[] reply = dns.answer(wire, wire.length, false).orElseThrow();
        assertThat(reply.length).isLessThanOrEqualTo(DnsResponder.MAX_UDP_EDNS);
        assertThat(new Message(reply).getOPT().getPayloadSize()).isEqualTo(DnsResponder.MAX_UDP_EDNS);
    }

    @Test
    void garbageAndResponsesAreDroppedAndOddQueriesGetErrors() throws Exception {
        for (int i = 0; i < 5_000; i++) {
            byte[] junk = new byte[ThreadLocalRandom.current().nextInt(0, 600)];
            ThreadLocalRandom.current().nextBytes(junk);
            Optional<byte[]> reply = dns.answer(junk, junk.length, false);
            reply.ifPresent(r -> assertThat(r.length).isLessThanOrEqualTo(512));
        }
        Message response = query("api.local.petrel.internal.", Type.A);
        response.getHeader().setFlag(Flags.QR);
        byte[] wire = response.toWire();
        assertThat(dns.answer(wire, wire.length, false)).isEmpty();
        byte[] valid = query("api.local.petrel.internal.", Type.A).toWire();
        assertThat(dns.answer(valid, valid.length - 3, false)).as("truncated packet").isEmpty();
        Message notify = query("local.petrel.internal.", Type.SOA);
        notify.getHeader().setOpcode(Opcode.NOTIFY);
        byte[] n = notify.toWire();
        assertThat(new Message(dns.answer(n, n.length, false).orElseThrow()).getRcode()).isEqualTo(Rcode.NOTIMP);
        assertThat(answered).contains("malformed/dropped", "response/dropped");
        assertThat(ask("api.local.petrel.internal.", Type.A).getSection(Section.ANSWER)).hasSize(3);
    }

    @Test
    void theGlobalNameAnswersWithItsAddressesInAZoneOfItsOwnWithATtlOfOneSecond() throws Exception {
        List<InetAddress> primary = new ArrayList<>(List.of(ip("127.2.0.11"), ip("127.2.0.12")));
        DnsResponder withGlobal = new DnsResponder("local.petrel.internal", () -> zones, () -> List.of(ip("127.0.0.11")),
                Optional.of(new DnsResponder.Global("api.global.petrel.internal", () -> primary)), (type, rcode) -> { });
        Message a = ask(withGlobal, "API.Global.petrel.internal.", Type.A);
        assertThat(a.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(a.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(a.getSection(Section.ANSWER)).extracting(Record::rdataToString).containsExactly("127.2.0.11", "127.2.0.12");
        assertThat(a.getSection(Section.ANSWER)).allMatch(r -> r.getTTL() == DnsResponder.GLOBAL_TTL_SECONDS);
        primary.clear();
        primary.add(ip("127.1.0.11"));
        assertThat(ask(withGlobal, "api.global.petrel.internal.", Type.A).getSection(Section.ANSWER)).extracting(Record::rdataToString)
                .containsExactly("127.1.0.11");
        Message soa = ask(withGlobal, "global.petrel.internal.", Type.SOA);
        assertThat(soa.getSection(Section.ANSWER)).singleElement().satisfies(r -> {
            assertThat(r.getType()).isEqualTo(Type.SOA);
            assertThat(r.getTTL()).isEqualTo(DnsResponder.GLOBAL_TTL_SECONDS);
        });
        Message ns = ask(withGlobal, "global.petrel.internal.", Type.NS);
        assertThat(ns.getSection(Section.ANSWER)).singleElement().satisfies(r -> assertThat(r.rdataToString()).isEqualTo("ns.global.petrel.internal."));
        assertThat(ns.getSection(Section.ADDITIONAL)).extracting(Record::rdataToString).containsExactly("127.0.0.11");
        assertThat(ask(withGlobal, "ns.global.petrel.internal.", Type.A).getSection(Section.ANSWER)).hasSize(1);
        Message nx = ask(withGlobal, "other.global.petrel.internal.", Type.A);
        assertThat(nx.getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(nx.getSection(Section.AUTHORITY)).singleElement().satisfies(r -> assertThat(r.getName().toString()).isEqualTo("global.petrel.internal."));
        assertThat(ask(withGlobal, "api.local.petrel.internal.", Type.A).getSection(Section.ANSWER)).as("the region's names as before").hasSize(3);
        assertThat(ask(withGlobal, "petrel.internal.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void aGlobalNameWithNoAnswerYetIsEmptyButNotAnError() throws Exception {
        DnsResponder withGlobal = new DnsResponder("local.petrel.internal", () -> zones, () -> List.of(ip("127.0.0.11")),
                Optional.of(new DnsResponder.Global("api.global.petrel.internal", List::of)), (type, rcode) -> { });
        Message a = ask(withGlobal, "api.global.petrel.internal.", Type.A);
        assertThat(a.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(a.getSection(Section.ANSWER)).isEmpty();
        assertThat(a.getSection(Section.AUTHORITY)).singleElement().satisfies(r -> assertThat(r.getType()).isEqualTo(Type.SOA));
    }

    @Test
    void aGlobalNameInsideTheRegionsZoneIsOneMoreNameThereOrAnError() throws Exception {
        DnsResponder inRegion = new DnsResponder("local.petrel.internal", () -> zones, () -> List.of(ip("127.0.0.11")),
                Optional.of(new DnsResponder.Global("any.local.petrel.internal", () -> List.of(ip("127.9.0.1")))), (type, rcode) -> { });
        Message a = ask(inRegion, "any.local.petrel.internal.", Type.A);
        assertThat(a.getSection(Section.ANSWER)).singleElement().satisfies(r -> assertThat(r.getTTL()).isEqualTo(DnsResponder.GLOBAL_TTL_SECONDS));
        assertThat(ask(inRegion, "api.local.petrel.internal.", Type.A).getSection(Section.ANSWER)).hasSize(3);
        assertThatThrownBy(() -> new DnsResponder("local.petrel.internal", () -> zones, List::of,
                Optional.of(new DnsResponder.Global("api.local.petrel.internal", List::of)), (type, rcode) -> { }))
                .hasMessageContaining("one of the region's own names");
    }

    private Message ask(String name, int type) throws Exception {
        return ask(dns, name, type);
    }

    private static Message ask(DnsResponder responder, String name, int type) throws Exception {
        byte[] wire = query(name, type).toWire();
        return new Message(responder.answer(wire, wire.length, false).orElseThrow());
    }

    private static Message query(String name, int type) throws Exception {
        return Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN));
    }

    private static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
