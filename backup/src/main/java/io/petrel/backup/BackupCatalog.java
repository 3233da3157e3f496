package io.petrel.backup;

import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.SnapshotManifest;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * What can be restored from a target: for each cluster its snapshots and the archived log after them,
 * as restore windows (a snapshot and the unbroken run of segments that follows it), and the plan
 * that reaches a given point.
 */
public final class BackupCatalog {
    private final BackupRepository repository;

    public BackupCatalog(BackupRepository repository) {
        this.repository = requireNonNull(repository, "repository");
    }

    /**
     * A stretch of restorable points: from a snapshot's index (and time) up to the last entry of the
     * unbroken run of segments after it.
     */
    public record Window(String cluster, SnapshotManifest snapshot, long fromIndex, long toIndex, long fromTime, long toTime,
                         List<SegmentManifest> segments) {
        public Window {
            segments = List.copyOf(segments);
        }
    }

    /** The cluster whose backups reach the latest time, if none was asked for. */
    public String defaultCluster() throws IOException {
        String best = null;
        long bestTime = Long.MIN_VALUE;
        for (String cluster : repository.clusters()) {
            for (Window w : windows(cluster)) {
                if (w.toTime() > bestTime) {
                    bestTime = w.toTime();
                    best = cluster;
                }
            }
        }
        if (best == null) {
            throw new IOException("no snapshot in " + repository.target().describe() + ": nothing can be restored from it");
        }
        return best;
    }

    public List<Window> windows(String cluster) throws IOException {
        List<SnapshotManifest> snapshots = repository.snapshots(cluster);
        List<SegmentManifest> segments = repository.segments(cluster);
        List<Window> windows = new ArrayList<>();
        for (SnapshotManifest s : snapshots) {
            List<SegmentManifest> chain = chainAfter(s.index(), segments);
            long to = chain.isEmpty() ? s.index() : chain.getLast().lastIndex();
            // A snapshot of a cluster that had applied nothing yet has no replicated time: its window starts when it was taken.
            long fromTime = s.clock() > 0 ? s.clock() : s.takenAt();
            long toTime = chain.isEmpty() ? fromTime : Math.max(fromTime, chain.getLast().lastTime());
            windows.add(new Window(cluster, s, s.index(), to, fromTime, toTime, chain));
        }
        return windows;
    }

    /**
     * The segments that continue the log after {@code index} without a gap: at each step the one that
     * reaches furthest among those starting at or before the next index (overlaps hold the same entries).
     */
    static List<SegmentManifest> chainAfter(long index, List<SegmentManifest> segments) {
        List<SegmentManifest> chain = new ArrayList<>();
        long next = index + 1;
        while (true) {
            final long want = next;
            Optional<SegmentManifest> step = segments.stream()
                    .filter(s -> s.firstIndex() <= want && s.lastIndex() >= want)
                    .max(Comparator.comparingLong(SegmentManifest::lastIndex));
            if (step.isEmpty()) {
                return chain;
            }
            chain.add(step.get());
            next = step.get().lastIndex() + 1;
        }
    }

    /** The plan that reaches {@code point} in {@code cluster} (empty: the default cluster), or an error saying why none does. */
    public RestorePlan plan(Optional<String> clusterAsked, RestorePoint point) throws IOException {
        String cluster = clusterAsked.isPresent() ? clusterAsked.get() : defaultCluster();
        List<Window> windows = windows(cluster);
        if (windows.isEmpty()) {
            throw new IOException("cluster " + cluster + " has no snapshot in " + repository.target().describe());
        }
        Window chosen = switch (point) {
            case RestorePoint.Latest l -> windows.stream().max(Comparator.comparingLong(Window::toIndex)
                    .thenComparingLong(w -> w.snapshot().index())).orElseThrow();
            case RestorePoint.AtIndex at -> windows.stream().filter(w -> w.fromIndex() <= at.index() && at.index() <= w.toIndex())
                    .max(Comparator.comparingLong(Window::fromIndex))
                    .orElseThrow(() -> new IOException("no restore point at log index " + at.index() + " in cluster " + cluster
                            + "; restorable: " + describe(windows)));
            case RestorePoint.AtTime at -> atTime(cluster, windows, at.time().toEpochMilli());
        };
        List<SegmentManifest> needed = new ArrayList<>();
        for (SegmentManifest s : chosen.segments()) {
            if (point instanceof RestorePoint.AtIndex at && s.firstIndex() > at.index()) {
                break;
            }
            if (point instanceof RestorePoint.AtTime at && s.firstTime() > at.time().toEpochMilli()) {
                break;
            }
            needed.add(s);
        }
        return new RestorePlan(cluster, point, chosen.snapshot(), needed);
    }

    /**
     * The newest snapshot taken at or before {@code time}; a time after the end of its archived run is
     * in a break if a later snapshot exists (refused), or after the newest archived entry (its end is
     * the closest point there is).
     */
    private static Window atTime(String cluster, List<Window> windows, long time) throws IOException {
        Window w = windows.stream().filter(x -> x.fromTime() <= time).max(Comparator.comparingLong(Window::fromIndex))
                .orElseThrow(() -> new IOException("no restore point at " + Instant.ofEpochMilli(time) + " in cluster " + cluster
                        + ": the oldest is " + Instant.ofEpochMilli(windows.getFirst().fromTime()) + "; restorable: " + describe(windows)));
        boolean later = windows.stream().anyMatch(x -> x.fromIndex() > w.toIndex());
        if (time > w.toTime() && later) {
            throw new IOException("no restore point at " + Instant.ofEpochMilli(time) + " in cluster " + cluster
                    + ": it falls in a break of the archive; restorable: " + describe(windows));
        }
        return w;
    }

    static String describe(List<Window> windows) {
        StringBuilder b = new StringBuilder();
        for (Window w : windows) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append("index ").append(w.fromIndex()).append("..").append(w.toIndex()).append(" (")
                    .append(Instant.ofEpochMilli(w.fromTime())).append(" .. ").append(Instant.ofEpochMilli(w.toTime())).append(')');
        }
        return b.toString();
    }
}
