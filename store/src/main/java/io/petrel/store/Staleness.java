package io.petrel.store;

/**
 * How far a {@link ReadConsistency#LOCAL} read may lag: the replica that served it, its applied
 * revision and log index, the newest commit index it has heard of, and how long ago it last heard
 * from a leader ({@code -1}: it has no leader).
 */
public record Staleness(String replica, long appliedIndex, long knownCommitIndex, long millisSinceLeaderContact) {

    /** A read served by a replica that had applied everything it knew to be committed. */
    public boolean caughtUp() {
        return appliedIndex >= knownCommitIndex && millisSinceLeaderContact >= 0;
    }
}
