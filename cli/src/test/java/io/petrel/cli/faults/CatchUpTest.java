package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** A zone that missed writes comes back: from its log, or (data deleted) through a snapshot. */
class CatchUpTest {

    @Test
    void aZoneThatWasDownFor10000WritesCatchesUp() throws Exception {
        try (RegionHarness region = RegionHarness.start(Map.of());
             RatisStore client = region.client(StoreTuning.DEFAULT)) {
            String leader = leaderOf(region);
            String down = region.zones().stream().filter(z -> !z.equals(leader)).findFirst().orElseThrow();
            assertThat(region.zone(down).kill()).isTrue();
            long termBefore = region.status(leader).path("term").asLong();
            long started = System.nanoTime();
            write(client, "catch-up/", 10_000);
            // Two zones under full write load on two cores: no spurious election (pre-vote, timeouts).
            assertThat(region.status(leader).path("term").asLong()).as("term after the load").isEqualTo(termBefore);
            System.out.printf("MEASURED 10000 writes with zone %s down took %.1f s%n", down, (System.nanoTime() - started) / 1e9);

            long restarted = System.nanoTime();
            region.region().start(down);
            region.region().awaitReady(List.of(down), Duration.ofSeconds(60));
            Map<String, JsonNode> digests = region.convergedDigests(Duration.ofSeconds(120));
            System.out.printf("MEASURED zone %s caught up in %.1f s%n", down, (System.nanoTime() - restarted) / 1e9);
            assertThat(digests.values().stream().map(d -> d.path("digest").asText()).distinct()).hasSize(1);
            assertThat(digests.get(down).path("revision").asLong()).isGreaterThanOrEqualTo(10_000);
        }
    }

    @Test
    void aZoneWhoseDataWasDeletedRejoinsThroughASnapshot() throws Exception {
        // Snapshots every 200 entries and small log segments, so that the log the zone would need is purged.
        Map<String, String> tuning = Map.of("snapshot.every.entries", "200", "log.segment.bytes", String.valueOf(64 * 1024));
        try (RegionHarness region = RegionHarness.start(tuning);
             RatisStore client = region.client(StoreTuning.DEFAULT)) {
            write(client, "before/", 500);
            String victim = region.zones().stream().filter(z -> !z.equals(leaderOf(region))).findFirst().orElseThrow();
            assertThat(region.zone(victim).kill()).isTrue();
            LeaderKillTest.deleteRecursively(region.spec(victim).dataDir());
            assertThat(Files.exists(region.spec(victim).dataDir())).isFalse();

            // One write per entry, so that many entries (not just many writes) pile up and the log is purged.
            for (int i = 0; i < 1500; i++) {
                client.put("after/" + i, ("v" + i).getBytes(StandardCharsets.UTF_8), Expect.any());
            }
            String leader = leaderOf(region);
            JsonNode leaderStatus = region.status(leader);
            assertThat(leaderStatus.path("lastSnapshot").path("index").asLong()).as("leader snapshot").isGreaterThan(500);

            region.region().start(victim);
            region.region().awaitReady(List.of(victim), Duration.ofSeconds(60));
            Map<String, JsonNode> digests = region.convergedDigests(Duration.ofSeconds(120));
            assertThat(digests.values().stream().map(d -> d.path("digest").asText()).distinct()).hasSize(1);
            String log = region.log(victim);
            assertThat(log).as("zone %s log", victim).contains("restored from snapshot");
            assertThat(region.status(victim).path("lastSnapshot").isNull()).isFalse();

            Map<String, KeyValue> all = LeaderKillTest.scanAll(client, "after/");
            assertThat(all).hasSize(1500);
        }
    }

    static String leaderOf(RegionHarness region) {
        try {
            return region.leader();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** {@code n} writes from 32 concurrent callers, all of which must be acknowledged. */
    static void write(RatisStore client, String prefix, int n) {
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inFlight.add(client.commitAsync(List.of(new Op.Put(prefix + i, ("value " + i).getBytes(StandardCharsets.UTF_8), Expect.any()))));
            if (inFlight.size() == 32) {
                inFlight.forEach(CompletableFuture::join);
                inFlight.clear();
            }
        }
        inFlight.forEach(CompletableFuture::join);
    }
}
