package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.store.KeyValue;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every zone killed at once, then started: all hold the same state, with nothing acknowledged lost. */
class RestartAllTest {

    @Test
    void afterAllZonesAreKilledAndRestartedEveryZoneHoldsTheSameState() throws Exception {
        try (RegionHarness region = RegionHarness.start(Map.of("snapshot.every.entries", "300"))) {
            try (RatisStore client = region.client(StoreTuning.DEFAULT)) {
                CatchUpTest.write(client, "restart/", 3000);
            }
            Map<String, JsonNode> before = region.convergedDigests(Duration.ofSeconds(60));
            String digestBefore = before.values().iterator().next().path("digest").asText();

            region.region().killAll();
            long started = System.nanoTime();
            region.region().startAll();
            region.region().awaitReady(Duration.ofSeconds(120));
            System.out.printf("MEASURED region ready %.1f s after all zones were killed and started%n", (System.nanoTime() - started) / 1e9);

            Map<String, JsonNode> after = region.convergedDigests(Duration.ofSeconds(60));
            assertThat(after.values().stream().map(d -> d.path("digest").asText()).distinct())
                    .as("digests after restart: %s", after).containsExactly(digestBefore);
            try (RatisStore client = region.client(StoreTuning.DEFAULT)) {
                Map<String, KeyValue> all = LeaderKillTest.scanAll(client, "restart/");
                assertThat(all).hasSize(3000);
                assertThat(all.get("restart/2999").valueAsString()).isEqualTo("value 2999");
            }
        }
    }
}
