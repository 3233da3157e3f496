package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.cli.local.LocalProcess;
import io.petrel.cli.local.LocalRegion;
import io.petrel.cli.local.NodeLauncher;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneProcess;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A real region for fault tests: every zone a separate JVM process on its own loopback address
 * (under a random 127.x prefix, so that it never meets a developer's region), started exactly as
 * {@code petrel up} starts one.
 */
final class RegionHarness implements AutoCloseable {
    private final Path dir;
    private final LocalRegion region;
    private final boolean ownsDir;

    private RegionHarness(Path dir, LocalRegion region, boolean ownsDir) {
        this.dir = dir;
        this.region = region;
        this.ownsDir = ownsDir;
    }

    /** A region of three zones and no gateway: for tests of the zones themselves. */
    static RegionHarness start(Map<String, String> tuning) throws Exception {
        return start(Files.createTempDirectory("petrel-region-"), true, tuning, 0);
    }

    static RegionHarness start(Path dir, boolean ownsDir, Map<String, String> tuning) throws Exception {
        return start(dir, ownsDir, tuning, 0);
    }

    /** A region of three zones with {@code gateways} gateway instances in front, as {@code petrel up} starts it. */
    static RegionHarness startWithGateways(Map<String, String> tuning, int gateways) throws Exception {
        return start(Files.createTempDirectory("petrel-region-"), true, tuning, gateways);
    }

    private static RegionHarness start(Path dir, boolean ownsDir, Map<String, String> tuning, int gateways) throws Exception {
        String prefix = "127." + ThreadLocalRandom.current().nextInt(100, 250);
        RegionLayout layout = RegionLayout.of("faults", dir, 3, gateways, prefix, RegionLayout.RAFT_PORT, RegionLayout.HTTP_PORT,
                RegionLayout.API_PORT, withoutBackupsUnlessAsked(tuning));
        return start(layout, dir, ownsDir);
    }

    /**
     * A test of another part does not back up (two cores; its timings were set without it) unless it
     * tunes a {@code backup.*} key; the backup tests do.
     */
    private static Map<String, String> withoutBackupsUnlessAsked(Map<String, String> tuning) {
        Map<String, String> t = new java.util.HashMap<>(tuning);
        if (tuning.keySet().stream().noneMatch(k -> k.startsWith("backup."))) {
            t.put("backup.target", "none");
        }
        // Nor does it run actions: an invoker's directory entry and lease are writes of their own, which
        // would change the digests the store's tests compare. The invoker tests tune an invoker.* key.
        if (tuning.keySet().stream().noneMatch(k -> k.startsWith("invoker."))) {
            t.put("invoker.enabled", "false");
        }
        return Map.copyOf(t);
    }

    /** Starts the region whose {@code region.json} is in {@code dir} (as {@code petrel up --data DIR} does). */
    static RegionHarness startExisting(Path dir, boolean ownsDir) throws Exception {
        return start(RegionLayout.load(dir), dir, ownsDir);
    }

    private static RegionHarness start(RegionLayout layout, Path dir, boolean ownsDir) throws Exception {
        // One class-data archive for every test region: the first start writes it, later ones start faster.
        Path cds = Path.of(System.getProperty("java.io.tmpdir"), "petrel-test-node-" + Runtime.version().feature() + ".jsa");
        LocalRegion region = new LocalRegion(layout, NodeLauncher.current(cds));
        RegionHarness h = new RegionHarness(dir, region, ownsDir);
        try {
            region.startAll();
            region.awaitReady(Duration.ofSeconds(120));
        } catch (Exception e) {
            h.close();
            throw e;
        }
        return h;
    }

    LocalRegion region() {
        return region;
    }

    Path dir() {
        return dir;
    }

    RatisStore client(StoreTuning tuning) {
        return RatisStore.connect(region.layout().region(), region.layout().clusterId(),
                region.layout().zones().stream().map(ZoneSpec::peer).toList(), tuning);
    }

    ZoneProcess zone(String zone) {
        return region.process(zone);
    }

    LocalProcess gateway(String name) {
        return region.gateway(name);
    }

    /** The address every gateway instance shares, as a base URL. */
    String sharedApi() {
        return "http://" + region.layout().sharedApi();
    }

    ZoneSpec spec(String zone) {
        return region.layout().zone(zone);
    }

    List<String> zones() {
        return region.layout().zones().stream().map(ZoneSpec::zone).toList();
    }

    /** The zone that currently leads, as the zones themselves report it. */
    String leader() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (ZoneSpec z : region.layout().zones()) {
                Optional<JsonNode> s = region.status(z);
                if (s.isPresent() && "LEADER".equals(s.get().path("role").asText())) {
                    return z.zone();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no zone reports itself leader within 30 s");
    }

    JsonNode status(String zone) {
        return region.status(spec(zone)).orElseThrow(() -> new AssertionError("zone " + zone + " does not answer its status"));
    }

    JsonNode digest(String zone) {
        return region.digest(spec(zone)).orElseThrow(() -> new AssertionError("zone " + zone + " does not answer its digest"));
    }

    /**
     * Waits until every running zone has applied the same log index and then returns their digests,
     * which must then agree.
     */
    Map<String, JsonNode> convergedDigests(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, JsonNode> last = Map.of();
        while (System.nanoTime() < deadline) {
            Map<String, JsonNode> digests = new java.util.TreeMap<>();
            for (String z : zones()) {
                region.digest(spec(z)).ifPresent(d -> digests.put(z, d));
            }
            last = digests;
            if (digests.size() == zones().size()
                    && digests.values().stream().map(d -> d.path("appliedIndex").asLong()).distinct().count() == 1) {
                return digests;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("zones did not converge on one applied index within " + timeout + ": " + last);
    }

    /** Copies every zone's and gateway's log to {@code target/region-logs/}, so a failed run can be read afterwards. */
    private void keepLogs() {
        Path to = Path.of("target", "region-logs", dir.getFileName().toString());
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path log : walk.filter(p -> p.getFileName().toString().equals("node.log") || p.getFileName().toString().equals("gateway.log")).toList()) {
                Path target = to.resolve(dir.relativize(log).toString().replace('/', '-'));
                Files.createDirectories(to);
                Files.copy(log, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.err.println("could not keep the region's logs: " + e);
        }
    }

    String log(String zone) throws IOException {
        Path log = zone(zone).logFile();
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws IOException {
        region.killAll();
        keepLogs();
        if (ownsDir) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
