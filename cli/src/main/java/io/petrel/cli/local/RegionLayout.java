package io.petrel.cli.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * A region on one machine: every zone on its own loopback address ({@code <prefix>.<n>.1}: 127.0.1.1,
 * 127.0.2.1 ... by default), all with the same ports, and each with its own folder under the region's
 * data folder. Written to {@code region.json} so that later commands find it.
 *
 * <p>In front of the zones stand the region's gateway instances ({@code g1}, {@code g2} on
 * {@code <prefix>.0.11}, {@code <prefix>.0.12}), separate processes that share nothing with a zone. Every
 * instance also listens on {@code sharedApi} ({@code <prefix>.0.1:3233}, so 127.0.0.1:3233 by default,
 * the port OpenWhisk standalone uses) and serves DNS on {@code sharedDns} ({@code <prefix>.0.1:8053}),
 * both with SO_REUSEPORT: the kernel spreads connections over the instances that are up, and a killed
 * instance's sockets simply leave the group.
 */
public record RegionLayout(String region, Path dataDir, List<ZoneSpec> zones, Map<String, String> tuning, String sharedApi,
                           List<GatewaySpec> gateways, String domain, String sharedDns, String clusterId) {

    public static final int RAFT_PORT = 7100;
    public static final int HTTP_PORT = 7180;
    public static final int API_PORT = 3233;
    public static final int GATEWAY_ADMIN_PORT = 7190;
    public static final int DNS_PORT = 8053;
    public static final String DOMAIN = "petrel.internal";
    public static final String ADMIN_KEY_FILE = "admin.key";
    static final String FILE = "region.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public RegionLayout {
        requireNonNull(region, "region");
        requireNonNull(dataDir, "dataDir");
        zones = List.copyOf(zones);
        tuning = Map.copyOf(tuning);
        gateways = gateways == null ? List.of() : List.copyOf(gateways);
        domain = domain == null ? DOMAIN : domain;
        // Regions made before cluster ids existed have none (their consensus group is named by the region alone).
        clusterId = clusterId == null ? "" : clusterId;
    }

    /** The same region with other tuning (e.g. a region restored from a backup keeps the original's). */
    public RegionLayout withTuning(Map<String, String> newTuning) {
        return new RegionLayout(region, dataDir, zones, newTuning, sharedApi, gateways, domain, sharedDns, clusterId);
    }

    /** Where a local region backs up when nothing else is configured: a real deployment points at another disk or a bucket. */
    public Path defaultBackupDir() {
        return dataDir.resolve("backups");
    }

    /** The backup target of this region's zones: {@code backup.target} if tuned, else {@link #defaultBackupDir()}. */
    public String backupTarget() {
        return tuning.getOrDefault("backup.target", defaultBackupDir().toString());
    }

    /** Zones named a, b, c ... on {@code <ipPrefix>.1.1}, {@code <ipPrefix>.2.1} ..., and two gateway instances. */
    public static RegionLayout of(String region, Path dataDir, int zoneCount, String ipPrefix, int raftPort, int httpPort,
                                  int apiPort, Map<String, String> tuning) {
        return of(region, dataDir, zoneCount, 2, ipPrefix, raftPort, httpPort, apiPort, tuning);
    }

    public static RegionLayout of(String region, Path dataDir, int zoneCount, int gatewayCount, String ipPrefix, int raftPort, int httpPort,
                                  int apiPort, Map<String, String> tuning) {
        if (zoneCount < 1 || zoneCount > 9) {
            throw new IllegalArgumentException("a local region has 1 to 9 zones, not " + zoneCount);
        }
        List<ZoneSpec> zones = new ArrayList<>();
        for (int i = 0; i < zoneCount; i++) {
            String zone = String.valueOf((char) ('a' + i));
            zones.add(new ZoneSpec(zone, ipPrefix + "." + (i + 1) + ".1", raftPort, httpPort, apiPort, dataDir.resolve("zone-" + zone)));
        }
        if (gatewayCount < 0 || gatewayCount > 9) {
            throw new IllegalArgumentException("a local region has 0 to 9 gateway instances, not " + gatewayCount);
        }
        List<GatewaySpec> gateways = new ArrayList<>();
        for (int i = 1; i <= gatewayCount; i++) {
            gateways.add(new GatewaySpec("g" + i, ipPrefix + ".0." + (10 + i), apiPort, GATEWAY_ADMIN_PORT, DNS_PORT,
                    dataDir.toAbsolutePath().resolve("gateway-g" + i)));
        }
        return new RegionLayout(region, dataDir.toAbsolutePath(), zones, tuning, ipPrefix + ".0.1:" + apiPort, gateways, DOMAIN,
                ipPrefix + ".0.1:" + DNS_PORT, java.util.UUID.randomUUID().toString());
    }

    public GatewaySpec gateway(String name) {
        return gateways.stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no gateway '" + name + "' in this region; gateways are "
                        + gateways.stream().map(GatewaySpec::name).toList()));
    }

    /** The DNS name that answers with the healthy zones' API addresses. */
    public String apiName() {
        return "api." + region + "." + domain;
    }

    /** The DNS name that answers with the live gateway instances. */
    public String gatewayName() {
        return "gw." + region + "." + domain;
    }

    public ZoneSpec zone(String name) {
        return zones.stream().filter(z -> z.zone().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no zone '" + name + "' in this region; zones are "
                        + zones.stream().map(ZoneSpec::zone).toList()));
    }

    /** The node configuration of one zone, as the file {@code petrel node --config} reads. */
    public Properties nodeProperties(ZoneSpec z) {
        Properties p = new Properties();
        p.setProperty("region", region);
        p.setProperty("zone", z.zone());
        p.setProperty("peers", String.join(",", zones.stream().map(s -> s.peer().toString()).toList()));
        p.setProperty("data", z.dataDir().toString());
        p.setProperty("http", z.host() + ":" + z.httpPort());
        p.setProperty("api", z.host() + ":" + z.apiPort());
        p.setProperty("admin.key.file", adminKeyFile().toString());
        // A local region is for development: OpenWhisk's well-known guest key makes tutorials work.
        p.setProperty("seed.development.keys", "true");
        if (!clusterId.isEmpty()) {
            p.setProperty("cluster.id", clusterId);
        }
        p.setProperty("backup.target", defaultBackupDir().toString());
        // Actions call the region through its gateways, like any client, so a zone's loss does not strand them.
        p.setProperty("invoker.api.host", "http://" + sharedApi);
        tuning.forEach((k, v) -> {
            if (!k.startsWith("gateway.")) {
                p.setProperty(k, v);
            }
        });
        return p;
    }

    /** The configuration of one gateway instance, as the file {@code petrel gateway --config} reads. */
    public Properties gatewayProperties(GatewaySpec g) {
        Properties p = new Properties();
        p.setProperty("region", region);
        p.setProperty("domain", domain);
        p.setProperty("name", g.name());
        p.setProperty("listen", sharedApi + "," + g.host() + ":" + g.apiPort());
        p.setProperty("admin", g.host() + ":" + g.adminPort());
        p.setProperty("dns", sharedDns + "," + g.host() + ":" + g.dnsPort());
        p.setProperty("zones", String.join(",", zones.stream().map(z -> z.zone() + "=" + z.host() + ":" + z.apiPort()).toList()));
        p.setProperty("zones.health", String.join(",", zones.stream().map(z -> z.zone() + "=" + z.host() + ":" + z.httpPort()).toList()));
        p.setProperty("gateways", String.join(",", gateways.stream().map(s -> s.name() + "=" + s.host() + ":" + s.adminPort()).toList()));
        tuning.forEach((k, v) -> {
            if (k.startsWith("gateway.")) {
                p.setProperty(k.substring("gateway.".length()), v);
            }
        });
        return p;
    }

    public Path adminKeyFile() {
        return dataDir.resolve(ADMIN_KEY_FILE);
    }

    public void save() throws IOException {
        Files.createDirectories(dataDir);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, dataDir.resolve(FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static boolean exists(Path dataDir) {
        return Files.exists(dataDir.resolve(FILE));
    }

    public static RegionLayout load(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            throw new IOException("no region in " + dataDir.toAbsolutePath() + " (" + FILE + " is missing); start one with ./petrel up");
        }
        return JSON.readValue(file.toFile(), RegionLayout.class);
    }
}
