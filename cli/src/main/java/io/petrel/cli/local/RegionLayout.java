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
 * <p>Besides its own address, every zone's API also listens on {@code sharedApi}
 * ({@code <prefix>.0.1:3233}, so 127.0.0.1:3233 by default, the port OpenWhisk standalone uses) with
 * SO_REUSEPORT: the kernel spreads connections over the zones that are up, and a killed zone's
 * socket simply leaves the group. The gateway replaces this entry point later.
 */
public record RegionLayout(String region, Path dataDir, List<ZoneSpec> zones, Map<String, String> tuning, String sharedApi) {

    public static final int RAFT_PORT = 7100;
    public static final int HTTP_PORT = 7180;
    public static final int API_PORT = 3233;
    public static final String ADMIN_KEY_FILE = "admin.key";
    static final String FILE = "region.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public RegionLayout {
        requireNonNull(region, "region");
        requireNonNull(dataDir, "dataDir");
        zones = List.copyOf(zones);
        tuning = Map.copyOf(tuning);
    }

    /** Zones named a, b, c ... on {@code <ipPrefix>.1.1}, {@code <ipPrefix>.2.1} ... */
    public static RegionLayout of(String region, Path dataDir, int zoneCount, String ipPrefix, int raftPort, int httpPort,
                                  int apiPort, Map<String, String> tuning) {
        if (zoneCount < 1 || zoneCount > 9) {
            throw new IllegalArgumentException("a local region has 1 to 9 zones, not " + zoneCount);
        }
        List<ZoneSpec> zones = new ArrayList<>();
        for (int i = 0; i < zoneCount; i++) {
            String zone = String.valueOf((char) ('a' + i));
            zones.add(new ZoneSpec(zone, ipPrefix + "." + (i + 1) + ".1", raftPort, httpPort, apiPort, dataDir.resolve("zone-" + zone)));
        }
        return new RegionLayout(region, dataDir.toAbsolutePath(), zones, tuning, ipPrefix + ".0.1:" + apiPort);
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
        if (sharedApi != null && !sharedApi.isEmpty()) {
            p.setProperty("api.shared", sharedApi);
        }
        p.setProperty("admin.key.file", adminKeyFile().toString());
        // A local region is for development: OpenWhisk's well-known guest key makes tutorials work.
        p.setProperty("seed.development.keys", "true");
        p.putAll(tuning);
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
