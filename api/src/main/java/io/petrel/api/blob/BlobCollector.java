package io.petrel.api.blob;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/** Runs {@link BlobStore#collect()} now and then in this zone; every zone runs one, which is safe. */
public final class BlobCollector implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BlobCollector.class);
    private final ScheduledExecutorService timer;

    public BlobCollector(String zone, BlobStore blobs, Duration every) {
        requireNonNull(blobs, "blobs");
        requireNonNull(every, "every");
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name(zone + "-blob-collector").factory());
        long ms = Math.max(100, every.toMillis());
        // Spread the zones' passes so they rarely collide on the same records.
        timer.scheduleWithFixedDelay(() -> {
            try {
                int released = blobs.collect();
                if (released > 0) {
                    LOG.info("zone {}: {} blob chunk reference(s) given back", zone, released);
                }
            } catch (RuntimeException e) {
                LOG.info("zone {}: blob collection pass failed, next in {} ms: {}", zone, ms, e.getMessage());
            }
        }, ThreadLocalRandom.current().nextLong(ms), ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
