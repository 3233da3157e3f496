package io.petrel.cli.faults;

import io.petrel.backup.BackupRepository;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.target.DirectoryTarget;
import io.petrel.cli.PetrelCli;
import io.petrel.cli.dr.StandbySeeder;
import io.petrel.cli.local.LocalRegion;
import io.petrel.cli.local.NodeLauncher;
import io.petrel.cli.local.RegionLayout;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two regions on one machine, every zone its own process: a primary under continuous writes, a
 * standby following its archive. The primary's processes are all killed; the standby promotes itself;
 * the old primary, restarted, refuses writes; failback makes it a standby that catches up. Then
 * standbys pointed at bad targets are refused.
 */
class DisasterRecoveryTest {
    private static final long FAILOVER_MS = 5000;
    private final DrTestRegions regions = new DrTestRegions();

    @Test
    void aLostPrimaryIsReplacedByItsStandbyAndFailsBackAsAStandby() throws Exception {
        Path data = Files.createTempDirectory("petrel-dr-");
        System.setProperty("petrel.home", data.resolve("home").toString());
        int prefix = ThreadLocalRandom.current().nextInt(100, 240);
        Path home = data.resolve("home");
        try {
            regions.run("up", "--region", "east", "--ip-prefix", "127." + prefix, "--gateways", "0");
            RegionLayout east = RegionLayout.load(home.resolve("regions/east"));
            regions.awaitRole(east, "PRIMARY", Duration.ofSeconds(30));
            for (int i = 0; i < 20; i++) {
                assertThat(regions.put(east, "before-" + i)).isEqualTo(200);
            }
            regions.run("up", "--region", "west", "--standby-of", "east", "--failover-ms", String.valueOf(FAILOVER_MS), "--ip-prefix",
                    "127." + (prefix + 1), "--gateways", "0");
            RegionLayout west = RegionLayout.load(home.resolve("regions/west"));
            regions.awaitRole(west, "STANDBY", Duration.ofSeconds(30));

            // A standby serves reads of what it applied and refuses writes, naming the primary.
            DrTestRegions.awaitTrue(() -> regions.get(west, "before-19") == 200, Duration.ofSeconds(30), "the standby applied the seeded writes");
            // Replaying the primary's entries gives its state exactly: the same digest at the same revision.
            DrTestRegions.awaitTrue(() -> regions.digest(east.zones().get(0)).equals(regions.digest(west.zones().get(0))), Duration.ofSeconds(30),
                    "the standby's state digest equals the primary's");
            HttpResponse<String> refused = regions.putRaw(west, "on-the-standby");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).contains("standby of region east");

            // Continuous writes on the primary, then every process of it killed.
            ConcurrentSkipListMap<Integer, Long> acked = new ConcurrentSkipListMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int n = 0; !stop.get(); n++) {
                    try {
                        if (regions.put(east, "w-" + n) == 200) {
                            acked.put(n, System.nanoTime());
                        }
                    } catch (Exception e) {
                        // the primary is going away
                    }
                }
            });
            Thread.sleep(4000);
            DrTestRegions.awaitTrue(() -> regions.lagOf(west) >= 0 && regions.lagOf(west) < 50, Duration.ofSeconds(20), "the standby keeps up");
            System.out.printf("standby lag before the loss: %d entries%n", regions.lagOf(west));
            long killed = System.nanoTime();
            new LocalRegion(east, NodeLauncher.current(east.dataDir().resolve("petrel-node.jsa"))).killAll();
            stop.set(true);
            writer.join();
            regions.awaitRole(west, "PRIMARY", Duration.ofMillis(FAILOVER_MS + 60_000));
            // Each zone takes writes once its own lease is acknowledged (within a renewal).
            DrTestRegions.awaitTrue(() -> regions.put(west, "after-failover") == 200, Duration.ofSeconds(15), "the new primary takes writes");
            long promoted = System.nanoTime();

            // Every acknowledged write up to the newest one the standby has is there: no holes.
            int newestPresent = -1;
            for (int n : acked.descendingKeySet()) {
                if (regions.get(west, "w-" + n) == 200) {
                    newestPresent = n;
                    break;
                }
            }
            assertThat(newestPresent).as("some writes during the run reached the standby").isGreaterThanOrEqualTo(0);
            for (int n : acked.headMap(newestPresent, true).keySet()) {
                assertThat(regions.get(west, "w-" + n)).as("acknowledged write w-%d, before the newest one the standby has", n).isEqualTo(200);
            }
            long lastAcked = acked.lastEntry().getValue();
            double rpo = (lastAcked - acked.get(newestPresent)) / 1e9;
            double rto = (promoted - killed) / 1e9;
            System.out.printf("MEASURED: %d writes acknowledged, the newest %d on the standby; RPO %.2f s (acknowledged writes after the "
                    + "last archived one: %d); RTO %.1f s (failover time %d ms)%n", acked.size(), newestPresent, rpo,
                    acked.tailMap(newestPresent, false).size(), rto, FAILOVER_MS);
            assertThat(rpo).isLessThan(10);
            assertThat(rto).isLessThan(FAILOVER_MS / 1000.0 + 40);

            // The old primary, restarted, knows it lost its epoch and refuses writes.
            regions.run("up", "--region", "east");
            regions.awaitRole(east, "DEMOTED", Duration.ofSeconds(30));
            HttpResponse<String> fenced = regions.putRaw(east, "on-the-old-primary");
            assertThat(fenced.statusCode()).isEqualTo(503);
            assertThat(fenced.body()).contains("west");

            // Failback: it reports what it had that the new primary does not, and becomes a standby that catches up.
            PetrelCli.Result failback = regions.run("region", "failback", "--region", "east");
            assertThat(failback.out()).contains("is a standby of region west");
            // Acknowledged writes the new primary never got are reported by name, not dropped silently.
            Path report;
            try (Stream<Path> files = Files.list(east.dataDir())) {
                report = files.filter(f -> f.getFileName().toString().startsWith("lost-writes-")).findFirst().orElseThrow();
            }
            String lost = Files.readString(report);
            for (int n : acked.tailMap(newestPresent, false).keySet()) {
                assertThat(lost).as("the lost-writes report names acknowledged write w-%d", n).contains("w-" + n);
            }
            assertThat(regions.put(west, "after-failback")).isEqualTo(200);
            DrTestRegions.awaitTrue(() -> regions.get(east, "after-failback") == 200, Duration.ofSeconds(60), "the new standby follows the new primary");
            assertThat(regions.putRaw(east, "on-the-new-standby").statusCode()).isEqualTo(503);
        } finally {
            // Only regions that came up: a failed start must show its own failure, not the stop's.
            regions.downIfUp(home, "east");
            regions.downIfUp(home, "west");
        }

        // Standbys pointed at bad targets: a clear error, and no seed.
        RegionLayout north = RegionLayout.of("north", data.resolve("north"), 3, 0, "127." + (prefix + 2), 7100, 7180, 3233, java.util.Map.of());
        try (BackupRepository empty = repository(Files.createDirectories(data.resolve("empty-target")))) {
            assertThatThrownBy(() -> new StandbySeeder(empty).seed(north, "east")).hasMessageContaining("holds no disaster-recovery epoch");
        }
        Path shared = home.resolve("dr-target");
        try (BackupRepository foreign = repository(shared)) {
            assertThatThrownBy(() -> new StandbySeeder(foreign).seed(north, "east")).hasMessageContaining("not region east");
        }
        try (Stream<Path> files = Files.list(shared.resolve("files"))) {
            for (Path f : files.toList()) {
                byte[] b = Files.readAllBytes(f);
                if (b.length > 0) {
                    b[b.length / 2] ^= 0x5a;
                    Files.write(f, b);
                }
            }
        }
        try (BackupRepository corrupt = repository(shared)) {
            assertThatThrownBy(() -> new StandbySeeder(corrupt).seed(north, "west")).hasMessageContaining("files/");
        }
        assertThat(north.zones().stream().noneMatch(z -> Files.exists(z.dataDir().resolve("state")))).isTrue();
        DrTestRegions.deleteRecursively(data);
    }

    private static BackupRepository repository(Path dir) throws IOException {
        return new BackupRepository(new DirectoryTarget(dir), new ObjectCodec(Optional.empty()));
    }
}
