package io.petrel.cli.faults;

import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.NoQuorumException;
import io.petrel.store.Read;
import io.petrel.store.ReadConsistency;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Two of three zones down: no quorum. Writes fail fast and clearly; local reads go on. */
class QuorumLossTest {

    @Test
    void withTwoZonesDownWritesFailFastAndStaleReadsAreServed() throws Exception {
        try (RegionHarness region = RegionHarness.start(Map.of());
             RatisStore client = region.client(StoreTuning.DEFAULT.withWriteTimeout(Duration.ofSeconds(3)))) {
            CatchUpTest.write(client, "quorum/", 200);
            String survivor = region.leader(); // the hard case: the leader is the one left alone
            List<String> others = region.zones().stream().filter(z -> !z.equals(survivor)).toList();
            others.forEach(z -> assertThat(region.zone(z).kill()).isTrue());

            long started = System.nanoTime();
            assertThatThrownBy(() -> client.put("quorum/late", "x".getBytes(StandardCharsets.UTF_8), Expect.any()))
                    .isInstanceOf(NoQuorumException.class)
                    .hasMessageContaining("no quorum");
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("MEASURED with zones %s down a write failed with 'no quorum' after %.2f s%n", others, seconds);
            assertThat(seconds).as("a write without quorum fails instead of hanging").isLessThan(20.0);

            Read<Optional<KeyValue>> stale = client.get("quorum/7", ReadConsistency.LOCAL);
            assertThat(stale.value()).isPresent();
            assertThat(stale.value().get().valueAsString()).isEqualTo("value 7");
            assertThat(stale.staleness()).isNotNull();
            assertThat(stale.staleness().replica()).isEqualTo(survivor);
            System.out.printf("MEASURED stale read served by zone %s: %s%n", survivor, stale.staleness());

            assertThat(region.region().ready(region.spec(survivor))).as("survivor ready without quorum").isFalse();

            long restarted = System.nanoTime();
            region.region().start(others.get(0));
            region.region().awaitReady(List.of(survivor, others.get(0)), Duration.ofSeconds(60));
            client.put("quorum/after", "back".getBytes(StandardCharsets.UTF_8), Expect.any());
            System.out.printf("MEASURED writes resumed %.1f s after zone %s was started again%n",
                    (System.nanoTime() - restarted) / 1e9, others.get(0));
            Map<String, KeyValue> all = LeaderKillTest.scanAll(client, "quorum/");
            for (int i = 0; i < 200; i++) {
                assertThat(all.get("quorum/" + i)).as("quorum/%d", i).isNotNull();
                assertThat(all.get("quorum/" + i).valueAsString()).isEqualTo("value " + i);
            }
            assertThat(all.get("quorum/after").valueAsString()).isEqualTo("back");
        }
    }
}
