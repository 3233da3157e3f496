package io.petrel.store;

/** How fresh a read must be. */
public enum ReadConsistency {
    /** The read sees every write acknowledged before it started (ReadIndex in the Ratis backend). */
    LINEARIZABLE,
    /**
     * The read is served from the nearest replica's applied state without contacting a quorum: it
     * works while the region has no quorum, may miss recent writes, and says how stale it may be.
     */
    LOCAL
}
