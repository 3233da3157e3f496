package io.petrel.cli.faults;

import io.petrel.backup.target.S3Server;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The primary isolated but alive: iptables drops everything its zones send to the backup target (S3Proxy,
 * its own process) and to the standby, and everything the standby sends to it; its processes run on and
 * clients still reach it. It must fence itself (stop taking writes) before the standby's promotion
 * completes, so that no moment has two regions taking writes; healed, it learns it was replaced and is
 * demoted, and failback reports the writes it took that never reached the archive.
 */
class PrimaryPartitionTest {
    private static final long FAILOVER_MS = 6000;
    private final DrTestRegions regions = new DrTestRegions();

    @Test
    void anIsolatedPrimaryFencesItselfBeforeItsStandbyTakesWrites() throws Exception {
        Path data = Files.createTempDirectory("petrel-partition-");
        System.setProperty("petrel.home", data.resolve("home").toString());
        Path home = data.resolve("home");
        int prefix = ThreadLocalRandom.current().nextInt(100, 240);
        try (S3Server s3 = S3Server.launch(); LoopbackPartition partition = LoopbackPartition.create()) {
            String target = "s3://petrel-dr/partition?endpoint=" + s3.endpoint() + "&region=us-east-1&accessKey=" + s3.accessKey()
                    + "&secretKey=" + URLEncoder.encode(s3.secretKey(), StandardCharsets.UTF_8) + "&createBucket=true";
            try {
                regions.run("up", "--region", "east", "--backup-target", target, "--ip-prefix", "127." + prefix, "--gateways", "0");
                RegionLayout east = RegionLayout.load(home.resolve("regions/east"));
                regions.awaitRole(east, "PRIMARY", Duration.ofSeconds(30));
                assertThat(regions.put(east, "before")).isEqualTo(200);
                regions.run("up", "--region", "west", "--standby-of", "east", "--failover-ms", String.valueOf(FAILOVER_MS), "--ip-prefix",
                        "127." + (prefix + 1), "--gateways", "0");
                RegionLayout west = RegionLayout.load(home.resolve("regions/west"));
                regions.awaitRole(west, "STANDBY", Duration.ofSeconds(30));

                ConcurrentSkipListMap<Integer, Long> eastAcked = new ConcurrentSkipListMap<>();
                AtomicLong eastFirstRefusal = new AtomicLong();
                AtomicBoolean stop = new AtomicBoolean();
                Thread writer = Thread.ofPlatform().start(() -> {
                    for (int n = 0; !stop.get(); n++) {
                        try {
                            HttpResponse<String> r = regions.putRaw(east, "e-" + n);
                            if (r.statusCode() == 200) {
                                eastAcked.put(n, System.nanoTime());
                            } else if (r.statusCode() == 503 && r.body().contains("fenced")) {
                                eastFirstRefusal.compareAndSet(0, System.nanoTime());
                            }
                        } catch (Exception e) {
                            // keep writing
                        }
                    }
                });
                Thread.sleep(3000);
                long cut = System.nanoTime();
                int port = s3.endpoint().getPort();
                for (ZoneSpec e : east.zones()) {
                    partition.drop(e.host(), s3.endpoint().getHost(), port);
                    for (ZoneSpec w : west.zones()) {
                        partition.drop(e.host(), w.host(), 0);
                        partition.drop(w.host(), e.host(), 0);
                    }
                }
                // The standby promotes once the primary has been unreachable for the failover time.
                long westFirstWrite = 0;
                long deadline = System.nanoTime() + Duration.ofMillis(FAILOVER_MS + 60_000).toNanos();
                for (int n = 0; westFirstWrite == 0 && System.nanoTime() < deadline; n++) {
                    if (regions.put(west, "w-" + n) == 200) {
                        westFirstWrite = System.nanoTime();
                    } else {
                        Thread.sleep(100);
                    }
                }
                stop.set(true);
                writer.join();
                assertThat(westFirstWrite).as("the standby took over and takes writes").isPositive();
                long lastEastAck = eastAcked.lastEntry().getValue();
                System.out.printf("MEASURED: partition at 0 s; the primary's last acknowledged write at %.2f s, its first refusal at %.2f s; "
                                + "the standby's first write at %.2f s (failover time %d ms)%n", (lastEastAck - cut) / 1e9,
                        (eastFirstRefusal.get() - cut) / 1e9, (westFirstWrite - cut) / 1e9, FAILOVER_MS);
                assertThat(eastFirstRefusal.get()).as("the isolated primary fenced itself").isPositive();
                assertThat(lastEastAck).as("no write was taken by both regions: the old primary's last is before the new one's first")
                        .isLessThan(westFirstWrite);
                assertThat(eastFirstRefusal.get()).isLessThan(westFirstWrite);
                HttpResponse<String> fenced = regions.putRaw(east, "after-the-cut");
                assertThat(fenced.statusCode()).isEqualTo(503);
                assertThat(fenced.body()).contains("fenced");

                // Healed, the old primary sees the newer epoch and is demoted; failback names what it took after its last archive.
                partition.heal();
                regions.awaitRole(east, "DEMOTED", Duration.ofSeconds(60));
                assertThat(regions.putRaw(east, "after-healing").statusCode()).isEqualTo(503);
                regions.run("region", "failback", "--region", "east");
                String lost;
                try (Stream<Path> files = Files.list(east.dataDir())) {
                    lost = Files.readString(files.filter(f -> f.getFileName().toString().startsWith("lost-writes-")).findFirst().orElseThrow());
                }
                int missing = 0;
                for (int n : eastAcked.keySet()) {
                    if (regions.get(west, "e-" + n) != 200) {
                        missing++;
                        assertThat(lost).as("acknowledged write e-%d, not on the new primary, is reported", n).contains("e-" + n);
                    }
                }
                System.out.printf("MEASURED: %d writes the isolated primary acknowledged are not on the new primary; all are in the report%n", missing);
            } finally {
                regions.downIfUp(home, "east");
                regions.downIfUp(home, "west");
            }
        } finally {
            DrTestRegions.deleteRecursively(data);
        }
    }
}
