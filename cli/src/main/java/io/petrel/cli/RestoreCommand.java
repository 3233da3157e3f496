package io.petrel.cli;

import io.petrel.backup.BackupCatalog;
import io.petrel.backup.BackupRepository;
import io.petrel.backup.RestorePlan;
import io.petrel.backup.RestorePoint;
import io.petrel.backup.Restorer;
import io.petrel.cli.backup.BackupTargetOptions;
import io.petrel.cli.backup.ConsoleProgress;
import io.petrel.cli.backup.Files2;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code petrel restore}: builds a new region's data from the backups (a snapshot plus the archived
 * log up to the point asked for), checked on the way, as a new cluster; {@code petrel up --data DIR}
 * then serves it.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Build a region's data from its backups, to the latest point, a log index or a time; then `petrel up --data DIR` serves it.")
final class RestoreCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Point point;

    static final class Point {
        @Option(names = "--latest", description = "the newest archived point") boolean latest;
        @Option(names = "--to-index", paramLabel = "I", description = "the state right after log index I") Long index;
        @Option(names = "--to-time", paramLabel = "T", description = "the state at time T (ISO-8601, e.g. 2026-12-01T16:30:00Z, or epoch ms)")
        String time;
    }

    @Mixin
    RegionOptions region;

    @Mixin
    BackupTargetOptions from;

    @Mixin
    HiddenRegionOptions hidden;

    @Option(names = "--deep", description = "also read the restored state's content to count its keys and digest it "
            + "(every file's sha256 is checked either way)")
    boolean deep;

    @Option(names = "--zones", defaultValue = "3", description = "zones of the restored region, for a folder without one (default 3)")
    int zones;

    @Override
    public Integer call() throws Exception {
        Path dir = region.resolve();
        RegionLayout old = RegionLayout.exists(dir) ? RegionLayout.load(dir) : null;
        if (old != null) {
            for (ZoneSpec z : old.zones()) {
                if (hasData(z.dataDir().resolve("raft")) || hasData(z.dataDir().resolve("state"))) {
                    System.err.printf("%s still holds zone %s's data (%s); a restore builds a new region: give another --data, or stop the "
                            + "region and move its zone folders away first%n", dir, z.zone(), z.dataDir());
                    return 2;
                }
            }
        }
        RestorePoint target = point();
        String defaultTarget = old != null ? old.backupTarget() : dir.resolve("backups").toString();
        Path work = dir.resolve(".restore-" + System.currentTimeMillis());
        try (BackupRepository repo = from.open(defaultTarget); ConsoleProgress progress = new ConsoleProgress()) {
            RestorePlan plan = new BackupCatalog(repo).plan(from.cluster(), target);
            System.err.printf("restoring %s of cluster %s from %s: snapshot at index %d and %d archive segments%n", target, plan.cluster(),
                    repo.target().describe(), plan.snapshot().index(), plan.segments().size());
            Restorer.Result r = new Restorer(repo).restore(plan, work.resolve("state"), true, deep, progress);
            progress.close();
            String clusterId = UUID.randomUUID().toString();
            RegionLayout layout;
            if (old != null) {
                layout = new RegionLayout(old.region(), old.dataDir(), old.zones(), old.tuning(), old.sharedApi(), old.gateways(), old.domain(),
                        old.sharedDns(), clusterId);
            } else {
                RegionLayout fresh = RegionLayout.of(plan.snapshot().region() == null ? "local" : plan.snapshot().region(), dir, zones,
                        hidden.ipPrefix, hidden.raftPort, hidden.httpPort, hidden.apiPort, Map.of());
                layout = new RegionLayout(fresh.region(), fresh.dataDir(), fresh.zones(), fresh.tuning(), fresh.sharedApi(), fresh.gateways(),
                        fresh.domain(), fresh.sharedDns(), clusterId);
            }
            for (ZoneSpec z : layout.zones()) {
                Files2.deleteRecursively(z.dataDir());
                Files2.copyState(work.resolve("state"), z.dataDir().resolve("state"));
            }
            layout.save();
            System.out.printf("restored cluster %s to log index %d (term %d, revision %d, last entry at %s)%s: %d archived entries "
                            + "replayed in %d ms%n", r.cluster(), r.position().index(), r.position().term(), r.position().revision(),
                    Instant.ofEpochMilli(r.lastEntryTime()), r.keys() < 0 ? "" : ", " + r.keys() + " keys, digest " + r.digest(),
                    r.entriesReplayed(), r.millis());
            System.out.printf("new cluster %s in %s (%d zones); serve it with: ./petrel up --data %s%n", clusterId, dir, layout.zones().size(), dir);
            return 0;
        } finally {
            Files2.deleteRecursively(work);
        }
    }

    private RestorePoint point() {
        if (point.latest) {
            return new RestorePoint.Latest();
        }
        if (point.index != null) {
            return new RestorePoint.AtIndex(point.index);
        }
        return new RestorePoint.AtTime(parseTime(point.time));
    }

    static Instant parseTime(String text) {
        String t = text.trim();
        if (t.matches("\\d{10,}")) {
            return Instant.ofEpochMilli(Long.parseLong(t));
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--to-time must be ISO-8601 with an offset (2026-12-01T16:30:00Z) or epoch milliseconds, not '"
                    + text + "'");
        }
    }

    private static boolean hasData(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }
}
