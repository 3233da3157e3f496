package io.petrel.api;

import io.petrel.store.Expect;
import io.petrel.store.ForwardingStore;
import io.petrel.store.KeyValue;
import io.petrel.store.Lease;
import io.petrel.store.Op;
import io.petrel.store.Read;
import io.petrel.store.ReadConsistency;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;
import io.petrel.store.WatchListener;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cache the invoke path reads entities, keys and policies from, over a real three-replica store:
 * a value written a moment ago is read from memory, the first time too; changes and deletions
 * replace what it holds; large values wait for a read.
 */
class WatchedCacheTest {

    @Test
    void valuesTheWatchReportsAreServedFromMemoryAndFollowChangesAndDeletions(@TempDir Path dir) throws Exception {
        try (InProcessGroup group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0))) {
            Store replica = group.replica(0).store();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                replica.put("warmup", new byte[1], Expect.any());
                return true;
            });
            CountedReads store = new CountedReads(replica);
            try (WatchedCache<String> cache = new WatchedCache<>(store, "t/", KeyValue::valueAsString)) {
                // Registered after the cache's watch, on the same dispatcher: once it saw a key, so did the cache.
                Set<String> seen = ConcurrentHashMap.newKeySet();
                Watch witness = replica.watch("t/", e -> seen.add(e.type() + " " + (e.kv() == null ? "" : e.kv().key() + "@" + e.kv().modRevision())));

                long small = replica.put("t/small", utf8("v1"), Expect.any());
                long large = replica.put("t/large", new byte[WatchedCache.CACHED_ON_WRITE_BYTES + 1], Expect.any());
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.containsAll(List.of(WatchEvent.Type.PUT + " t/small@" + small,
                        WatchEvent.Type.PUT + " t/large@" + large)));
                assertThat(cache.get("t/small")).as("a value written a moment ago").hasValue("v1");
                assertThat(store.reads()).as("read from memory, the first time too").isZero();
                assertThat(cache.get("t/large")).get().asString().hasSize(WatchedCache.CACHED_ON_WRITE_BYTES + 1);
                assertThat(store.reads()).as("a large value is read from the store once").isEqualTo(1);
                assertThat(cache.get("t/large")).isPresent();
                assertThat(store.reads()).as("and then from memory").isEqualTo(1);

                long changed = replica.put("t/small", utf8("v2"), Expect.any());
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(WatchEvent.Type.PUT + " t/small@" + changed));
                assertThat(cache.get("t/small")).hasValue("v2");
                replica.delete("t/small", Expect.any());
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream().anyMatch(s -> s.startsWith(WatchEvent.Type.DELETE + " t/small")));
                assertThat(cache.get("t/small")).as("a deleted value is gone").isEmpty();
                assertThat(store.reads()).as("an absent key is read from the store (not cached unless asked)").isEqualTo(2);
                witness.close();
            }
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The real store, counting its reads. */
    private static final class CountedReads extends ForwardingStore {
        private final AtomicInteger reads = new AtomicInteger();

        CountedReads(Store real) {
            super(real);
        }

        int reads() {
            return reads.get();
        }

        @Override
        public Read<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
            reads.incrementAndGet();
            return super.get(key, consistency);
        }
    }
}
