package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.store.KeyValue;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** SIGKILL of the leader's zone under continuous writes from several clients. */
class LeaderKillTest {

    @Test
    void killingTheLeaderLosesNoAcknowledgedWriteAndAppliesNoneTwice() throws Exception {
        try (RegionHarness region = RegionHarness.start(Map.of());
             RatisStore client = region.client(StoreTuning.DEFAULT)) {
            String prefix = "leader-kill/";
            Writers writers = new Writers(client, prefix, 8);
            String leader;
            try (writers) {
                Thread.sleep(2_000);
                long before = writers.acknowledged.size();
                assertThat(before).as("writes acknowledged before the kill").isGreaterThan(50);
                leader = region.leader();
                long killedAt = System.nanoTime();
                assertThat(region.zone(leader).kill()).isTrue();
                // kill() returns once the process is gone: what is sent from now on needs a new leader.
                long dead = System.nanoTime();
                long deadline = killedAt + TimeUnit.SECONDS.toNanos(30);
                while (writers.firstAckOfWriteSentAfter(dead) < 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                Thread.sleep(2_000);
                long firstAck = writers.firstAckOfWriteSentAfter(dead);
                assertThat(firstAck).as("a write succeeded after the leader's zone was killed (last error: %s)", writers.lastError)
                        .isPositive();
                double seconds = (firstAck - killedAt) / 1e9;
                System.out.printf("MEASURED leader zone %s killed: writes succeeded again after %.3f s "
                                + "(%d acknowledged before the kill, %d after; %d attempts failed)%n",
                        leader, seconds, before, writers.acknowledged.size() - before, writers.failures.get());
                // The goal is under 1 s; the bound is generous so that a loaded CI machine does not fail it.
                assertThat(seconds).as("time until writes succeed again").isLessThan(15.0);
            }

            Map<String, KeyValue> stored = scanAll(client, prefix);
            assertThat(writers.acknowledged).isNotEmpty();
            writers.acknowledged.forEach((key, value) -> {
                KeyValue kv = stored.get(key);
                assertThat(kv).as("acknowledged write %s", key).isNotNull();
                assertThat(kv.valueAsString()).isEqualTo(value);
                // Every key was written once: a write applied twice would show version 2.
                assertThat(kv.version()).as("times %s was applied", key).isEqualTo(1);
            });
            assertThat(stored.values()).allSatisfy(kv -> assertThat(kv.version()).isEqualTo(1));

            region.region().start(leader);
            region.region().awaitReady(Duration.ofSeconds(60));
            Map<String, JsonNode> digests = region.convergedDigests(Duration.ofSeconds(60));
            assertThat(digests.values().stream().map(d -> d.path("digest").asText()).distinct())
                    .as("digests of all zones after the killed zone caught up: %s", digests).hasSize(1);
        }
    }

    static void deleteRecursively(java.nio.file.Path dir) throws java.io.IOException {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (var walk = java.nio.file.Files.walk(dir)) {
            for (var p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        }
    }

    static Map<String, KeyValue> scanAll(Store client, String prefix) {
        Map<String, KeyValue> all = new HashMap<>();
        ScanRequest req = ScanRequest.prefix(prefix, 1000);
        for (int pages = 0; pages < 10_000; pages++) {
            ScanPage page = client.scan(req);
            page.items().forEach(kv -> all.put(kv.key(), kv));
            if (!page.more()) {
                return all;
            }
            req = req.next(page);
        }
        throw new AssertionError("scan did not end");
    }
}
