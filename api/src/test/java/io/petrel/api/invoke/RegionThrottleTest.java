package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import io.petrel.store.WatchListener;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A permit's close never waits for the store. It runs on the thread that ended the activation, which
 * may be a worker of the JVM's common pool that the store's own client needs; when an admit held the
 * lock that close takes through a slow store read, closes blocked every worker of that pool, and the
 * zone's replica, starved of it, stopped following its leader (the 32-caller stall of the invocation
 * benchmark).
 */
class RegionThrottleTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void closingAPermitDoesNotWaitForAnAdmitThatIsReadingTheStore(@TempDir Path dir) throws Exception {
        try (InProcessGroup group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0));
             RatisStore real = group.client()) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> real.revision() >= 0);
            SlowReads store = new SlowReads(real);
            // One slot per chunk (a tenth of 3 over three zones, at least one): every second admit goes to the store.
            ObjectNode limits = JSON.createObjectNode().put("concurrentInvocations", 3).put("invocationsPerMinute", 1000);
            RegionThrottle throttle = new RegionThrottle(store, JSON, "a/1", zone -> true, ns -> limits, System::currentTimeMillis);

            Throttle.Permit first = throttle.admit("ns", Throttle.Kind.INVOKE);
            store.delayReads(Duration.ofSeconds(2));
            CompletableFuture<Throttle.Permit> second = CompletableFuture.supplyAsync(() -> throttle.admit("ns", Throttle.Kind.INVOKE),
                    Thread::startVirtualThread);
            await().atMost(Duration.ofSeconds(5)).until(store::readInProgress);

            long started = System.nanoTime();
            first.close();
            long closeMillis = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("MEASURED a permit's close took %d ms while another admit waited 2 s on a store read%n", closeMillis);
            assertThat(closeMillis).as("ms a close waited").isLessThan(500);

            second.get(30, TimeUnit.SECONDS).close();
        }
    }

    /** The real store, whose reads wait a while once asked to: a store far behind its leader. */
    private static final class SlowReads extends ForwardingStore {
        private volatile long delayMillis;
        private volatile boolean reading;

        SlowReads(Store real) {
            super(real);
        }

        void delayReads(Duration delay) {
            delayMillis = delay.toMillis();
        }

        boolean readInProgress() {
            return reading;
        }

        @Override
        public Read<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
            reading = true;
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                reading = false;
            }
            return super.get(key, consistency);
        }
    }
}
