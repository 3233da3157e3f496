package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.PetrelCli;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.store.KeyValue;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The disaster: continuous writes, every zone killed and every zone's data folder deleted. The region
 * is restored from its backups (which a local region keeps in {@code DIR/backups}) and served again:
 * every write acknowledged before the last archived point is there.
 */
class BackupRestoreRegionTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void afterLosingEveryZoneARestoreToTheLatestPointHasEveryWriteAcknowledgedBeforeIt() throws Exception {
        Path dir = Files.createTempDirectory("petrel-restore-");
        long killedAt;
        int acknowledged;
        // Every acknowledged key with the wall time of its acknowledgement.
        Map<String, Long> acks = new java.util.HashMap<>();
        try (RegionHarness region = RegionHarness.start(dir, false, Map.of("backup.archive.interval.ms", "1000"))) {
            try (RatisStore client = region.client(StoreTuning.DEFAULT); Writers writers = new Writers(client, "rpo/", 2)) {
                Thread.sleep(8_000);
                JsonNode backup = backupStatus(region, region.leader());
                System.out.printf("MEASURED before the disaster: backup status of the leader %s%n", backup);
                assertThat(backup.path("archivedIndex").asLong()).isGreaterThan(0);
                region.region().killAll();
                killedAt = System.currentTimeMillis();
                long nowNanos = System.nanoTime();
                acknowledged = writers.acknowledged.size();
                writers.close();
                writers.ackedKeys().forEach((key, ackNanos) -> acks.put(key, killedAt - (nowNanos - ackNanos) / 1_000_000));
            }
            for (ZoneSpec z : region.region().layout().zones()) {
                deleteRecursively(z.dataDir());
            }
        }
        assertThat(Files.isDirectory(dir.resolve("backups"))).isTrue();

        PetrelCli.Result restore = PetrelCli.run("restore", "--latest", "--data", dir.toString());
        System.out.println(restore.out() + restore.err());
        assertThat(restore.code()).as(restore.err()).isZero();
        long lastEntryTime = java.time.Instant.parse(restore.out().replaceAll("(?s).*last entry at (\\S+?)\\).*", "$1")).toEpochMilli();
        System.out.printf("MEASURED RPO: the restored state ends %d ms before every zone was killed (%d writes acknowledged in all)%n",
                killedAt - lastEntryTime, acknowledged);

        try (RegionHarness restored = RegionHarness.startExisting(dir, true);
             RatisStore client = restored.client(StoreTuning.DEFAULT)) {
            Map<String, KeyValue> all = LeaderKillTest.scanAll(client, "rpo/");
            long missingBeforeLastPoint = 0;
            long lostAfter = 0;
            for (Map.Entry<String, Long> e : acks.entrySet()) {
                boolean there = all.containsKey(e.getKey());
                if (!there && e.getValue() <= lastEntryTime) {
                    missingBeforeLastPoint++;
                } else if (!there) {
                    lostAfter++;
                }
            }
            System.out.printf("MEASURED restored %d keys; %d acknowledged writes came after the last archived point and are not there%n",
                    all.size(), lostAfter);
            assertThat(missingBeforeLastPoint).as("writes acknowledged before the last archived point but missing").isZero();
            assertThat(all.size()).isGreaterThan(0);
            assertThat(killedAt - lastEntryTime).as("RPO (ms)").isLessThan(10_000);
            // The restored region takes writes, and backs up as a new cluster.
            client.put("after-restore", "yes".getBytes(StandardCharsets.UTF_8), io.petrel.store.Expect.any());
        }
    }

    private static JsonNode backupStatus(RegionHarness region, String zone) throws Exception {
        ZoneSpec z = region.spec(zone);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + z.host() + ":" + z.httpPort() + "/admin/v1/backup")).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private static void deleteRecursively(Path path) throws java.io.IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
