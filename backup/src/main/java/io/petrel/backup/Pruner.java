package io.petrel.backup;

import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.backup.target.ObjectInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Applies a retention policy. What a kept restore point needs is never removed: a snapshot goes only
 * when it is outside the policy, the archive only before the oldest kept snapshot, and a file only
 * when no kept (or still being written) snapshot of any cluster names it.
 */
public final class Pruner {
    private static final Logger LOG = LoggerFactory.getLogger(Pruner.class);

    private final BackupRepository repository;
    private final Clock clock;

    public Pruner(BackupRepository repository, Clock clock) {
        this.repository = requireNonNull(repository, "repository");
        this.clock = requireNonNull(clock, "clock");
    }

    public record Report(List<String> deleted, long deletedBytes, int keptSnapshots) {
        public Report {
            deleted = List.copyOf(deleted);
        }
    }

    public Report prune(RetentionPolicy policy, boolean dryRun) throws IOException {
        long now = clock.millis();
        List<String> deleted = new ArrayList<>();
        long bytes = 0;
        Set<String> referenced = new HashSet<>();
        int kept = 0;
        List<String> clusterObjectsToDelete = new ArrayList<>();
        for (String cluster : repository.clusters()) {
            List<SnapshotManifest> snapshots = repository.snapshots(cluster);
            List<SnapshotManifest> keep = new ArrayList<>();
            for (int i = 0; i < snapshots.size(); i++) {
                SnapshotManifest s = snapshots.get(i);
                boolean newest = i >= snapshots.size() - policy.minSnapshots();
                boolean young = now - s.takenAt() <= policy.maxAge().toMillis();
                if (newest || young) {
                    keep.add(s);
                } else {
                    clusterObjectsToDelete.add(BackupLayout.snapshot(cluster, s.index()));
                }
            }
            kept += keep.size();
            keep.forEach(s -> s.files().forEach(f -> referenced.add(f.object())));
            repository.pendingSnapshots(cluster).forEach(s -> s.files().forEach(f -> referenced.add(f.object())));
            if (!keep.isEmpty()) {
                long oldestKept = keep.getFirst().index();
                for (SegmentManifest seg : repository.segments(cluster)) {
                    if (seg.lastIndex() <= oldestKept) {
                        clusterObjectsToDelete.add(BackupLayout.segmentManifest(cluster, seg.firstIndex(), seg.lastIndex()));
                        clusterObjectsToDelete.add(seg.object());
                    }
                }
                for (BackupRepository.BreakRecord b : repository.breaks(cluster)) {
                    if (b.resumedAt() <= oldestKept) {
                        clusterObjectsToDelete.add(BackupLayout.breakRecord(cluster, b.lastArchived(), b.resumedAt()));
                    }
                }
            }
        }
        // Manifests first, files after: a crash in between leaves unreferenced files, never a manifest without its files.
        for (String name : clusterObjectsToDelete) {
            var info = repository.target().stat(name);
            if (info.isPresent()) {
                bytes += info.get().size();
                deleted.add(name);
                if (!dryRun) {
                    repository.target().delete(name);
                }
            }
        }
        List<ObjectInfo> files = repository.target().list("files/");
        // A snapshot that started meanwhile named its files in its pending manifest before uploading them.
        for (String cluster : repository.clusters()) {
            repository.pendingSnapshots(cluster).forEach(s -> s.files().forEach(f -> referenced.add(f.object())));
        }
        for (ObjectInfo o : files) {
            if (!referenced.contains(o.name())) {
                bytes += o.size();
                deleted.add(o.name());
                if (!dryRun) {
                    repository.target().delete(o.name());
                }
            }
        }
        if (!deleted.isEmpty()) {
            LOG.info("backup retention ({} max age, at least {} snapshots) {} {} objects ({} bytes) in {}; {} snapshots kept",
                    policy.maxAge(), policy.minSnapshots(), dryRun ? "would delete" : "deleted", deleted.size(), bytes,
                    repository.target().describe(), kept);
        }
        return new Report(deleted, bytes, kept);
    }
}
