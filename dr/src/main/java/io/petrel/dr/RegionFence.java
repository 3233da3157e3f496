package io.petrel.dr;

import io.petrel.store.ratis.RegionState;
import io.petrel.store.ratis.WriteGate;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * One zone's fencing lease. A primary's zone takes client writes only until {@code lease} after it
 * <em>sent</em> the last request that a witness (the backup target or the standby region) answered with
 * an acknowledgement of its epoch: measured from the send, on this zone's monotonic clock, so a slow
 * answer never lengthens the lease. A standby that claims the next epoch waits out the lease (scaled for
 * clock drift) before it takes writes, so the two never overlap.
 */
public final class RegionFence implements WriteGate {
    private final String region;
    private final Duration lease;
    private final LongSupplier nanoTime;
    private volatile long validUntilNanos;
    private volatile long acknowledgedEpoch = -1;
    private volatile String lastProblem = "no witness has acknowledged this zone's epoch yet";

    public RegionFence(String region, Duration lease, LongSupplier nanoTime) {
        this.region = requireNonNull(region, "region");
        this.lease = requireNonNull(lease, "lease");
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
        this.validUntilNanos = nanoTime.getAsLong();
    }

    /** A witness acknowledged {@code epoch} in answer to a request sent at {@code sentNanos}. */
    public synchronized void acknowledged(long epoch, long sentNanos) {
        if (epoch != acknowledgedEpoch) {
            acknowledgedEpoch = epoch;
            validUntilNanos = sentNanos + lease.toNanos();
        } else {
            validUntilNanos = Math.max(validUntilNanos, sentNanos + lease.toNanos());
        }
    }

    public void problem(String what) {
        lastProblem = requireNonNull(what, "what");
    }

    /** Ends the lease at once (the region learned of a newer epoch). */
    public synchronized void revoke(String why) {
        validUntilNanos = nanoTime.getAsLong();
        acknowledgedEpoch = -1;
        lastProblem = why;
    }

    /** How long the lease still holds for {@code epoch} (zero if it does not). */
    public Duration remaining(long epoch) {
        if (epoch != acknowledgedEpoch) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(Math.max(0, validUntilNanos - nanoTime.getAsLong()));
    }

    @Override
    public Optional<String> refusal(RegionState state) {
        if (state.role() != RegionState.Role.PRIMARY) {
            // SOLO fences nothing; the other roles are refused by the replicated state itself.
            return Optional.empty();
        }
        if (state.epoch() == acknowledgedEpoch && nanoTime.getAsLong() < validUntilNanos) {
            return Optional.empty();
        }
        return Optional.of("region " + region + " is fenced: no majority of its witnesses (this region, the backup target, the standby region) "
                + "acknowledged its epoch " + state.epoch() + " within the last " + lease.toMillis() + " ms (" + lastProblem
                + "); it takes no writes until one does, so that two regions never take writes at once");
    }
}
