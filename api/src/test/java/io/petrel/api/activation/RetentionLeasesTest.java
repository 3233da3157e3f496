package io.petrel.api.activation;

import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Records written at the same moment under different retentions (zones configured differently
 * during a change of configuration, or two APIs in one test) must get different leases: a bucket
 * that began on the same millisecond once made a 2 s retention's records take a 1 h lease.
 */
class RetentionLeasesTest {

    @Test
    void bucketsOfDifferentRetentionsThatBeginTogetherHaveTheirOwnLeases(@TempDir Path dir) throws Exception {
        try (InProcessGroup group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0));
             RatisStore store = group.client()) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> store.revision() >= 0);
            long minute = 1_800_000_000_000L - Math.floorMod(1_800_000_000_000L, 60_000); // a bucket start for both
            RetentionLeases brief = new RetentionLeases(store, Duration.ofSeconds(2), () -> minute);
            RetentionLeases day = new RetentionLeases(store, Duration.ofDays(1), () -> minute);
            long dayLease = day.leaseForNow();
            long briefLease = brief.leaseForNow();
            assertThat(briefLease).isNotEqualTo(dayLease);
            assertThat(new RetentionLeases(store, Duration.ofSeconds(2), () -> minute).leaseForNow())
                    .as("another zone with the same retention shares the bucket's lease").isEqualTo(briefLease);
        }
    }
}
