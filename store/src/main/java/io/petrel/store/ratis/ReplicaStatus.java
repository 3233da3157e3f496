package io.petrel.store.ratis;

import java.util.List;

/**
 * What one zone's voter reports of itself: its role (LEADER, FOLLOWER, CANDIDATE, ...), the leader it
 * knows, the term, its commit and applied index, the store revision, its newest snapshot and, on the
 * leader, each follower's match index.
 */
public record ReplicaStatus(String zone, String role, String leader, long term, long commitIndex, long appliedIndex,
                            long revision, SnapshotStatus lastSnapshot, List<FollowerStatus> followers) {

    public record SnapshotStatus(long term, long index, long ageMillis) {
    }

    public record FollowerStatus(String zone, long matchIndex, long lastContactMillis) {
    }
}
