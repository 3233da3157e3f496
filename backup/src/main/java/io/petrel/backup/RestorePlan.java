package io.petrel.backup;

import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.SnapshotManifest;

import java.util.List;

import static java.util.Objects.requireNonNull;

/** How to reach a restore point: one snapshot, then these segments in order (the last perhaps only in part). */
public record RestorePlan(String cluster, RestorePoint point, SnapshotManifest snapshot, List<SegmentManifest> segments) {
    public RestorePlan {
        requireNonNull(cluster, "cluster");
        requireNonNull(point, "point");
        requireNonNull(snapshot, "snapshot");
        segments = List.copyOf(segments);
    }

    public long bytes() {
        return snapshot.bytes() + segments.stream().mapToLong(SegmentManifest::size).sum();
    }
}
