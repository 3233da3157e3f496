package io.petrel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two regions, two real gateway instances each on their own loopback addresses, every one listing
 * both regions under one global name; the zones are scripted HTTP servers whose {@code /admin/v1/dr}
 * says what a zone of a primary or a standby region would. Real DNS queries (UDP, and TCP once)
 * check that the name follows a promotion of the standby region.
 */
class GlobalDnsTest {
    private static final String GLOBAL = "api.global.petrel.internal";
    private static final Duration POLL = Duration.ofMillis(200);
    private static final List<String> EAST_HOSTS = List.of("127.61.0.11", "127.61.0.12");
    private static final List<String> WEST_HOSTS = List.of("127.62.0.11", "127.62.0.12");

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<ScriptedZone> eastZones = new ArrayList<>();
    private final List<ScriptedZone> westZones = new ArrayList<>();
    private final Map<String, Gateway> gateways = new LinkedHashMap<>();
    private final Map<String, String> hostOf = new LinkedHashMap<>();

    @BeforeEach
    void start() throws Exception {
        for (String z : List.of("a", "b")) {
            eastZones.add(new ScriptedZone(z));
            westZones.add(new ScriptedZone(z));
        }
        setDr(eastZones, dr("east", "PRIMARY", 3, true, "east"));
        setDr(westZones, dr("west", "STANDBY", 3, false, "east"));
        // Every instance must know every other's admin address before any starts: free ports, found first.
        Map<String, HostPort> admin = new LinkedHashMap<>();
        for (String h : concat(EAST_HOSTS, WEST_HOSTS)) {
            admin.put(h, new HostPort(h, freePort(h)));
        }
        Map<String, List<HostPort>> regions = new LinkedHashMap<>();
        regions.put("east", EAST_HOSTS.stream().map(admin::get).toList());
        regions.put("west", WEST_HOSTS.stream().map(admin::get).toList());
        GatewayConfig.Global global = new GatewayConfig.Global(GLOBAL, regions, POLL, Duration.ofMillis(500));
        startRegion("east", EAST_HOSTS, eastZones, admin, global);
        startRegion("west", WEST_HOSTS, westZones, admin, global);
    }

    private void startRegion(String region, List<String> hosts, List<ScriptedZone> zones, Map<String, HostPort> admin,
                             GatewayConfig.Global global) throws Exception {
        List<GatewayPeer> peers = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            peers.add(new GatewayPeer(region + "-g" + (i + 1), admin.get(hosts.get(i))));
        }
        for (int i = 0; i < hosts.size(); i++) {
            String host = hosts.get(i);
            String name = region + "-g" + (i + 1);
            GatewayConfig config = new GatewayConfig(region, "petrel.internal", name, List.of(new HostPort(host, 0)), admin.get(host),
                    List.of(new HostPort(host, 0)), zones.stream().map(ScriptedZone::target).toList(), peers, Optional.empty(),
                    new GatewayConfig.Health(Duration.ofMillis(250), Duration.ofMillis(500), 2, 1, 3, Duration.ofSeconds(5)),
                    new GatewayConfig.Proxy(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), 6,
                            1 << 20, 32, 256, 16 * 1024, Duration.ofSeconds(10), Duration.ofMillis(500)),
                    new GatewayConfig.Dr(POLL, Duration.ofMillis(500)), Optional.of(global));
            gateways.put(name, Gateway.start(config));
            hostOf.put(name, host);
        }
    }

    @AfterEach
    void stop() throws Exception {
        gateways.values().forEach(Gateway::close);
        for (ScriptedZone z : concat(eastZones, westZones)) {
            z.close();
        }
    }

    @Test
    void theGlobalNameAnswersWithThePrimaryRegionsGatewaysAndFollowsAPromotion() throws Exception {
        for (String g : gateways.keySet()) {
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(globalHosts(g)).as("asked at %s", g)
                    .containsExactlyElementsOf(EAST_HOSTS));
        }
        Message first = ask("west-g2", GLOBAL, Type.A, false);
        assertThat(first.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(first.getSection(Section.ANSWER)).allMatch(r -> r.getTTL() == 1);
        JsonNode west = status("west-g1");
        assertThat(west.path("apiHost").asText()).isEqualTo("127.62.0.11");
        assertThat(west.path("dr").path("role").asText()).isEqualTo("STANDBY");
        assertThat(west.path("dr").path("epoch").asLong()).isEqualTo(3);
        assertThat(west.path("dr").path("writable").asBoolean()).isFalse();
        assertThat(west.path("global").path("region").asText()).isEqualTo("east");

        // The standby takes over: one of its zones is primary at epoch 4 and takes writes, the other still promoting;
        // the old primary's zones step down.
        long promoted = System.nanoTime();
        westZones.get(0).dr = dr("west", "PRIMARY", 4, true, "west");
        westZones.get(1).dr = dr("west", "PROMOTING", 4, false, "west");
        setDr(eastZones, dr("east", "DEMOTED", 4, false, "west"));
        for (String g : gateways.keySet()) {
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> assertThat(globalHosts(g))
                    .as("asked at %s", g).containsExactlyElementsOf(WEST_HOSTS));
        }
        Duration flipped = Duration.ofNanos(System.nanoTime() - promoted);
        // Two hops of one poll interval each (zones to their gateways, gateways to every gateway), with room for a loaded machine.
        assertThat(flipped).as("flip time").isLessThan(Duration.ofSeconds(4));
        JsonNode nowWest = status("west-g1");
        assertThat(nowWest.path("dr").path("role").asText()).isEqualTo("PRIMARY");
        assertThat(nowWest.path("dr").path("writable").asBoolean()).as("writable: one zone of epoch 4 says so").isTrue();
        assertThat(ask("east-g2", GLOBAL, Type.A, true).getSection(Section.ANSWER)).as("over TCP too").extracting(Record::rdataToString)
                .containsExactlyElementsOf(WEST_HOSTS);
        Message soa = ask("east-g1", "global.petrel.internal.", Type.SOA, false);
        assertThat(soa.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(soa.getSection(Section.ANSWER)).singleElement().satisfies(r -> assertThat(r.getType()).isEqualTo(Type.SOA));

        // Then no region's DR view is known any more (no zone serves one): the name keeps its last answer rather than go empty.
        setDr(eastZones, null);
        setDr(westZones, null);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(status("east-g1").path("global").path("regions"))
                .allMatch(r -> r.path("dr").isNull()));
        Thread.sleep(POLL.toMillis() * 3);
        assertThat(globalHosts("east-g1")).containsExactlyElementsOf(WEST_HOSTS);
        assertThat(status("east-g1").path("dr").isNull()).isTrue();
        // Nor when the region it named loses its gateways, one after the other: the last answer had the one still live.
        gateways.remove("west-g1").close();
        gateways.remove("west-g2").close();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(status("east-g1").path("global").path("regions").get(1)
                .path("gateways")).allMatch(g -> !g.path("live").asBoolean()));
        Thread.sleep(POLL.toMillis() * 3);
        assertThat(globalHosts("east-g1")).isNotEmpty().isSubsetOf(WEST_HOSTS);
        assertThat(ask("east-g1", "api.east.petrel.internal.", Type.A, false).getSection(Section.ANSWER))
                .as("the region's own names are unaffected").hasSize(1);
    }

    private List<String> globalHosts(String gateway) throws Exception {
        Message m = ask(gateway, GLOBAL, Type.A, false);
        assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
        Set<String> hosts = new TreeSet<>();
        for (Record r : m.getSection(Section.ANSWER)) {
            hosts.add(r.rdataToString());
        }
        return List.copyOf(hosts);
    }

    private Message ask(String gateway, String name, int type, boolean tcp) throws Exception {
        SimpleResolver resolver = new SimpleResolver(new InetSocketAddress(hostOf.get(gateway), gateways.get(gateway).dnsPort(0)));
        resolver.setTimeout(Duration.ofSeconds(2));
        resolver.setTCP(tcp);
        return resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name.endsWith(".") ? name : name + "."), type, DClass.IN)));
    }

    private JsonNode status(String gateway) throws Exception {
        return json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://" + hostOf.get(gateway) + ":" + gateways.get(gateway).adminPort()
                + "/gateway/v1/status")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private static String dr(String region, String role, long epoch, boolean writable, String primary) {
        return "{\"region\":\"" + region + "\",\"role\":\"" + role + "\",\"epoch\":" + epoch + ",\"writable\":" + writable
                + ",\"primary\":\"" + primary + "\",\"lagEntries\":0}";
    }

    private static void setDr(List<ScriptedZone> zones, String body) {
        zones.forEach(z -> z.dr = body);
    }

    private static int freePort(String host) throws Exception {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(host, 0));
            return s.getLocalPort();
        }
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
