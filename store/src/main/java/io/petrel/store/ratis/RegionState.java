package io.petrel.store.ratis;

import static java.util.Objects.requireNonNull;

/**
 * The region's place in disaster recovery, replicated with the data (in the same write as each entry's
 * effects), so every zone agrees on whether the region takes writes.
 *
 * <p>A {@link Role#STANDBY} follows another region's log archive: {@code source*} say which cluster it
 * follows and the last entry of it applied here. Entries of the region's own clients are refused while
 * it is a standby, promoting or demoted; after a promotion the source fields say where it took over.
 * {@code divergence} is set if a replayed entry did not give the source's revision (the follower stops).
 *
 * @param role      what the region does now
 * @param epoch     the fencing epoch the region holds or last acknowledged (0: disaster recovery is off)
 * @param primary   the region that is primary as far as this region knows (itself when it is)
 * @param sourceRole the source's own role as of the last entry applied here: a source applies its own
 *                   entries' clock and leases only while it takes writes, and replaying must do the same
 */
public record RegionState(Role role, long epoch, String primary, String sourceCluster, Role sourceRole, long sourceTerm, long sourceIndex,
                          long sourceRevision, long sourceTime, String divergence) {

    public enum Role {
        /** Disaster recovery is not configured: the region takes writes and fences nothing. */
        SOLO,
        /** The primary of its epoch: takes writes while a majority of the witnesses acknowledges that epoch. */
        PRIMARY,
        /** Follows another region's archive and serves reads of what it applied. */
        STANDBY,
        /** A standby taking over: it no longer acknowledges the old primary and takes no writes yet. */
        PROMOTING,
        /** A former primary that knows of a newer epoch: reads only, until it is seeded again as a standby. */
        DEMOTED
    }

    public static final RegionState SOLO = new RegionState(Role.SOLO, 0, null, null, null, 0, 0, 0, 0, null);

    public RegionState {
        requireNonNull(role, "role");
        if (epoch < 0 || sourceIndex < 0) {
            throw new IllegalArgumentException("bad region state: epoch " + epoch + ", source index " + sourceIndex);
        }
    }

    /**
     * A standby of {@code sourceCluster} (of region {@code primary}, epoch {@code epoch}) whose state is that
     * cluster's at {@code at}, when the source itself was {@code sourceRole}.
     */
    public static RegionState standby(String primary, long epoch, String sourceCluster, Role sourceRole, StatePosition at) {
        return new RegionState(Role.STANDBY, epoch, requireNonNull(primary, "primary"), requireNonNull(sourceCluster, "sourceCluster"),
                requireNonNull(sourceRole, "sourceRole"), at.term(), at.index(), at.revision(), at.clock(), null);
    }

    /** Whether the region's own clients may write (deterministic: every zone answers the same at the same entry). */
    public boolean takesWrites() {
        return role == Role.SOLO || role == Role.PRIMARY;
    }

    /** Whether entries of the source cluster are applied. */
    public boolean replays() {
        return role == Role.STANDBY || role == Role.PROMOTING;
    }

    RegionState withRole(Role newRole, long newEpoch, String newPrimary) {
        return new RegionState(newRole, newEpoch, newPrimary, sourceCluster, sourceRole, sourceTerm, sourceIndex, sourceRevision, sourceTime,
                divergence);
    }

    RegionState replayed(Role newSourceRole, long term, long index, long revision, long time) {
        return new RegionState(role, epoch, primary, sourceCluster, newSourceRole, term, index, revision, time, divergence);
    }

    RegionState diverged(String why) {
        return new RegionState(role, epoch, primary, sourceCluster, sourceRole, sourceTerm, sourceIndex, sourceRevision, sourceTime, why);
    }

    /** Why a write of the region's own clients is refused, for the client. */
    String readOnlyReason() {
        return switch (role) {
            case STANDBY -> "this region is a standby of region " + primary + " (epoch " + epoch
                    + "): it serves reads of what it has applied but takes no writes; write to region " + primary;
            case PROMOTING -> "this region is taking over from region " + primary + " (epoch " + epoch
                    + "): it takes writes once the promotion completes";
            case DEMOTED -> "this region is no longer the primary: region " + primary + " took over in epoch " + epoch
                    + "; write to region " + primary;
            default -> "this region takes writes";
        };
    }
}
