package io.petrel.backup;

import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.backup.target.NoSuchObjectException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Checks that backups can be restored: the newest restore point is restored into a scratch folder
 * (every digest and count checked on the way), and with {@code full} every other object the
 * manifests name is read and checked against its sha256 too. Problems are collected, each naming its
 * object, rather than stopping at the first.
 */
public final class Verifier {
    private final BackupRepository repository;

    public Verifier(BackupRepository repository) {
        this.repository = requireNonNull(repository, "repository");
    }

    public record Report(String cluster, boolean ok, List<String> problems, int snapshots, int segments, int objectsChecked,
                         Optional<Restorer.Result> restored, long millis) {
        public Report {
            problems = List.copyOf(problems);
        }
    }

    public Report verify(Optional<String> clusterAsked, Path scratch, boolean full, Progress progress) throws IOException {
        long started = System.nanoTime();
        BackupCatalog catalog = new BackupCatalog(repository);
        String cluster = clusterAsked.isPresent() ? clusterAsked.get() : catalog.defaultCluster();
        List<String> problems = new ArrayList<>();
        List<SnapshotManifest> snapshots;
        List<SegmentManifest> segments;
        try {
            snapshots = repository.snapshots(cluster);
            segments = repository.segments(cluster);
        } catch (IOException e) {
            return new Report(cluster, false, List.of(e.getMessage()), 0, 0, 0, Optional.empty(), millisSince(started));
        }
        int checked = 0;
        Optional<Restorer.Result> restored = Optional.empty();
        SnapshotWriter.deleteRecursively(scratch);
        try {
            RestorePlan plan = catalog.plan(Optional.of(cluster), new RestorePoint.Latest());
            restored = Optional.of(new Restorer(repository).restore(plan, scratch, false, progress));
        } catch (IOException | RuntimeException e) {
            problems.add("restoring the latest point failed: " + e.getMessage());
        } finally {
            SnapshotWriter.deleteRecursively(scratch);
        }
        if (full) {
            Set<String> seen = new HashSet<>();
            for (SnapshotManifest s : snapshots) {
                for (SnapshotManifest.FileEntry f : s.files()) {
                    if (seen.add(f.object())) {
                        checked++;
                        check(f.object(), f.encoding(), f.size(), f.sha256(), "snapshot " + s.index() + " file " + f.name(), problems);
                    }
                }
            }
            Restorer restorer = new Restorer(repository);
            for (SegmentManifest seg : segments) {
                checked++;
                try {
                    restorer.fetchSegment(seg);
                } catch (IOException e) {
                    problems.add(e.getMessage());
                }
            }
        }
        return new Report(cluster, problems.isEmpty(), problems, snapshots.size(), segments.size(), checked, restored, millisSince(started));
    }

    private void check(String object, io.petrel.backup.format.Encoding encoding, long size, String sha256, String what,
                       List<String> problems) {
        try (InputStream in = repository.target().get(object)) {
            ObjectCodec.Digested d = ObjectCodec.drain(repository.codec().decoder(in, encoding, object));
            if (d.size() != size || !d.sha256().equals(sha256)) {
                problems.add(what + " (object " + object + ") is corrupted or truncated: " + d.size() + " bytes with sha256 " + d.sha256()
                        + ", the manifest says " + size + " bytes with sha256 " + sha256);
            }
        } catch (NoSuchObjectException e) {
            problems.add(what + " (object " + object + ") is missing from " + repository.target().describe());
        } catch (IOException e) {
            problems.add(what + " (object " + object + ") cannot be read: " + e.getMessage());
        }
    }

    private static long millisSince(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }
}
