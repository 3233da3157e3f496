package io.petrel.api.activation;

import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Lease;
import io.petrel.store.Store;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The store leases that make activation records expire. Not one lease per record: time is cut into
 * buckets, and every record written in a bucket, in any zone, is bound to that bucket's one lease,
 * whose time to live is the retention plus the bucket's length. So a record lives between the
 * retention and the retention plus one bucket, the number of live leases stays bounded (about
 * retention / bucket), and expiry happens at the same log position on every replica.
 *
 * <p>A bucket's lease id is kept under {@code actlease/<retention ms>/<bucket start>}, bound to the lease itself;
 * a zone that finds no lease for the current bucket grants one and races to record it, and the
 * loser revokes its own and uses the winner's.
 */
final class RetentionLeases {
    static final String PREFIX = "actlease/";
    private static final Duration MIN_BUCKET = Duration.ofSeconds(1);
    private static final Duration MAX_BUCKET = Duration.ofMinutes(1);

    private final Store store;
    private final Duration retention;
    private final long bucketMillis;
    private final LongSupplier clock;
    private final AtomicReference<Bucket> current = new AtomicReference<>();

    private record Bucket(long start, long leaseId) {
    }

    RetentionLeases(Store store, Duration retention, LongSupplier clock) {
        this.store = requireNonNull(store, "store");
        this.retention = requireNonNull(retention, "retention");
        this.clock = requireNonNull(clock, "clock");
        if (retention.compareTo(MIN_BUCKET) < 0) {
            throw new IllegalArgumentException("activation retention must be at least 1 s, got " + retention);
        }
        // About 1,440 buckets over the retention: a lapse deletes a minute's records at most.
        long bucket = retention.toMillis() / 1440;
        this.bucketMillis = Math.max(MIN_BUCKET.toMillis(), Math.min(MAX_BUCKET.toMillis(), bucket));
    }

    Duration retention() {
        return retention;
    }

    /** The lease for records written now. */
    long leaseForNow() {
        long now = clock.getAsLong();
        long start = now - Math.floorMod(now, bucketMillis);
        Bucket b = current.get();
        if (b != null && b.start() == start) {
            return b.leaseId();
        }
        long id = find(start).orElseGet(() -> create(start));
        current.set(new Bucket(start, id));
        return id;
    }

    /** Drops a lease that the store says is gone (the bucket outlived it, e.g. after a clock jump). */
    void forget(long leaseId) {
        Bucket b = current.get();
        if (b != null && b.leaseId() == leaseId) {
            current.compareAndSet(b, null);
            try {
                store.delete(key(b.start()), Expect.any());
            } catch (RuntimeException e) {
                // The key went with its lease or will; the next write grants a new one either way.
            }
        }
    }

    /**
     * A bucket's key names the retention its lease was granted for: zones (or an API in a test) with
     * another retention must not find and use that lease. With only the start in the key, a 2 s
     * retention's bucket that began on the same millisecond as a 1 h retention's bucket took the
     * hour-long lease, and its records outlived their retention (ActivationsApiTest, about 1 run in 60).
     */
    private String key(long start) {
        return PREFIX + retention.toMillis() + "/" + start;
    }

    private Optional<Long> find(long start) {
        return store.get(key(start)).map(KeyValue::value).map(v -> ByteBuffer.wrap(v).getLong());
    }

    private long create(long start) {
        Lease lease = store.grantLease(retention.plusMillis(bucketMillis));
        try {
            store.put(key(start), ByteBuffer.allocate(8).putLong(lease.id()).array(), Expect.absent(), lease.id());
            return lease.id();
        } catch (ConflictException e) {
            store.revokeLease(lease.id());
            return find(start).orElseThrow(() -> new IllegalStateException("bucket lease " + key(start) + " vanished"));
        }
    }
}
