package io.petrel.bench;

import io.petrel.backup.BackupAgent;
import io.petrel.backup.BackupCatalog;
import io.petrel.backup.BackupConfig;
import io.petrel.backup.BackupRepository;
import io.petrel.backup.Progress;
import io.petrel.backup.RestorePlan;
import io.petrel.backup.RestorePoint;
import io.petrel.backup.Restorer;
import io.petrel.backup.RetentionPolicy;
import io.petrel.backup.SnapshotWriter;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.target.DirectoryTarget;
import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.ratis.Peer;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.ReplicaConfig;
import io.petrel.store.ratis.StoreTuning;
import io.petrel.store.ratis.ZoneReplica;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The backups against a plain copy of the same files on the same disk, in one process: a full
 * snapshot of a store of {@code --size-mb} (a real one-zone store filled through Raft), a restore of
 * it, each timed against copying the same bytes with {@code Files.copy} and an fsync per file (what
 * the directory target does too); then the archive lag of a three-zone store taking
 * {@code --rate} writes/s, read from the segment manifests the archive wrote.
 */
@Command(name = "backup-bench", mixinStandardHelpOptions = true, description = "Measure snapshot, restore and archive lag.")
public final class BackupBench implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "an empty folder on the disk to measure")
    Path data;

    @Option(names = "--size-mb", defaultValue = "1100", description = "store size to build (default ${DEFAULT-VALUE} MiB)")
    int sizeMb;

    @Option(names = "--rate", defaultValue = "1000", description = "writes/s for the archive lag (default ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--rate-seconds", defaultValue = "30", description = "how long the archive lag is measured (default ${DEFAULT-VALUE})")
    int rateSeconds;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BackupBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(data);
        StringBuilder report = new StringBuilder();
        snapshotAndRestore(report);
        archiveLag(report);
        System.out.println(report);
        return 0;
    }

    private void snapshotAndRestore(StringBuilder report) throws Exception {
        Path zoneDir = data.resolve("store");
        // No journal: in a region the archive keeps it to a second of entries, not the whole fill.
        StoreTuning tuning = StoreTuning.DEFAULT.withSnapshotEveryEntries(1_000_000);
        Peer self = new Peer("a", "127.0.0.1", freePort());
        try (ZoneReplica zone = ZoneReplica.start(new ReplicaConfig("bench-" + System.nanoTime(), "a", List.of(self), zoneDir, tuning));
             RatisStore client = RatisStore.connect(zone.backupSource().region(), List.of(self), tuning)) {
            long filled = fill(client, sizeMb * 1024L * 1024);
            try (BackupRepository repo = new BackupRepository(new DirectoryTarget(data.resolve("target")), new ObjectCodec(Optional.empty()))) {
                Path cp = data.resolve("checkpoint");
                zone.backupSource().checkpoint(cp);
                long bytes = folderBytes(cp);
                dropCaches();
                double copy = timeCopy(cp, data.resolve("copy-1"));
                deleteRecursively(cp);
                dropCaches();
                long t0 = System.nanoTime();
                SnapshotWriter.Result snap;
                SnapshotWriter.Result again;
                double snapshot;
                double second;
                double summarized;
                // One writer, as a zone has: the second snapshot knows the digests of the table files it saw.
                try (SnapshotWriter writer = new SnapshotWriter(repo, data.resolve("work"), Clock.systemUTC())) {
                    snap = writer.write(zone.backupSource(), 0, Progress.NONE);
                    snapshot = (System.nanoTime() - t0) / 1e9;
                    snap.complete().join();
                    summarized = (System.nanoTime() - t0) / 1e9;
                    t0 = System.nanoTime();
                    again = writer.write(zone.backupSource(), 0, Progress.NONE);
                    second = (System.nanoTime() - t0) / 1e9;
                    again.complete().join();
                }

                dropCaches();
                double copyBack = timeCopy(data.resolve("target/files"), data.resolve("copy-2"));
                dropCaches();
                RestorePlan plan = new BackupCatalog(repo).plan(Optional.empty(), new RestorePoint.AtIndex(snap.manifest().index()));
                t0 = System.nanoTime();
                Restorer.Result restored = new Restorer(repo).restore(plan, data.resolve("restored"), true, false, Progress.NONE);
                double restore = (System.nanoTime() - t0) / 1e9;
                dropCaches();
                t0 = System.nanoTime();
                Restorer.Result deep = new Restorer(repo).restore(plan, data.resolve("restored-deep"), true, true, Progress.NONE);
                double restoreDeep = (System.nanoTime() - t0) / 1e9;
                double mb = bytes / 1048576.0;
                report.append(String.format(Locale.ROOT, """
                        ## Snapshot and restore (store of %.0f MiB: %d keys, %d files; %d MiB written through Raft)

                        | operation | seconds | MiB/s | plain copy (s) | ratio (time / plain copy) |
                        |---|---|---|---|---|
                        | full snapshot into a directory target, restorable (sha256 per file, manifest, fsync) | %.2f | %.0f | %.2f | %.2f |
                        | ... and its key count and state digest recorded (read off the critical path) | %.2f | %.0f | %.2f | %.2f |
                        | second snapshot, nothing changed (%d of %d MiB uploaded) | %.2f | | %.2f | %.2f |
                        | restore from it (download, sha256 per file, open, rebase: `petrel restore`) | %.2f | %.0f | %.2f | %.2f |
                        | restore with `--deep` (also reads the content: key count and digest against the manifest) | %.2f | %.0f | %.2f | %.2f |

                        """, mb, deep.keys(), snap.manifest().files().size(), filled / 1048576, snapshot, mb / snapshot, copy, snapshot / copy,
                        summarized, mb / summarized, copy, summarized / copy,
                        again.uploadedBytes() / 1048576, (long) mb, second, copy, second / copy, restore, mb / restore, copyBack, restore / copyBack,
                        restoreDeep, mb / restoreDeep, copyBack, restoreDeep / copyBack));
            }
        }
        deleteRecursively(zoneDir);
        for (String d : List.of("copy-1", "copy-2", "restored", "restored-deep", "target", "work")) {
            deleteRecursively(data.resolve(d));
        }
    }

    /** Puts incompressible 64 KiB values (the worst case for the snapshot's compression) from 32 writers. */
    private static long fill(RatisStore client, long bytes) throws Exception {
        int valueSize = 64 * 1024;
        long n = bytes / valueSize;
        AtomicLong next = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long started = System.nanoTime();
        try (var writers = Executors.newFixedThreadPool(32)) {
            for (int w = 0; w < 32; w++) {
                writers.execute(() -> {
                    byte[] value = new byte[valueSize];
                    for (long i; (i = next.getAndIncrement()) < n; ) {
                        ThreadLocalRandom.current().nextBytes(value);
                        try {
                            client.commit(List.of(new Op.Put("bench/" + i, value, Expect.any(), 0)));
                        } catch (RuntimeException e) {
                            failed.incrementAndGet();
                        }
                    }
                });
            }
        }
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " writes failed while filling the store");
        }
        System.err.printf(Locale.ROOT, "filled %d MiB in %.1f s%n", bytes / 1048576, (System.nanoTime() - started) / 1e9);
        return n * valueSize;
    }

    private void archiveLag(StringBuilder report) throws Exception {
        String region = "bench-lag-" + System.nanoTime();
        List<Peer> peers = List.of(new Peer("a", "127.0.0.1", freePort()), new Peer("b", "127.0.0.1", freePort()),
                new Peer("c", "127.0.0.1", freePort()));
        StoreTuning tuning = StoreTuning.DEFAULT.withJournalBytes(256L * 1024 * 1024);
        Path targetDir = data.resolve("lag-target");
        BackupConfig config = new BackupConfig(targetDir.toString(), Optional.empty(), Duration.ofSeconds(1), Duration.ofHours(1),
                Duration.ZERO, RetentionPolicy.DEFAULT, 256L * 1024 * 1024);
        List<ZoneReplica> zones = new ArrayList<>();
        List<BackupAgent> agents = new ArrayList<>();
        try {
            for (Peer p : peers) {
                zones.add(ZoneReplica.start(new ReplicaConfig(region, p.zone(), peers, data.resolve("lag-" + p.zone()), tuning)));
            }
            for (ZoneReplica z : zones) {
                BackupAgent a = new BackupAgent(config, z.backupSource(), new DirectoryTarget(targetDir), data.resolve("lag-work-" + z.zone()),
                        Clock.systemUTC());
                a.start();
                agents.add(a);
            }
            try (RatisStore client = RatisStore.connect(region, peers, tuning)) {
                client.put("warm", new byte[1], Expect.any());
                Thread.sleep(3_000);
                long measureFrom = System.currentTimeMillis();
                ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
                AtomicLong sent = new AtomicLong();
                AtomicLong failed = new AtomicLong();
                byte[] value = new byte[256];
                long periodNanos = 1_000_000_000L / rate;
                var senders = Executors.newVirtualThreadPerTaskExecutor();
                var task = timer.scheduleAtFixedRate(() -> senders.execute(() -> {
                    try {
                        client.commit(List.of(new Op.Put("lag/" + sent.incrementAndGet(), value, Expect.any(), 0)));
                    } catch (RuntimeException e) {
                        failed.incrementAndGet();
                    }
                }), 0, periodNanos, TimeUnit.NANOSECONDS);
                Thread.sleep(rateSeconds * 1000L);
                task.cancel(false);
                timer.shutdown();
                senders.close();
                long measureTo = System.currentTimeMillis();
                Thread.sleep(3_000);
                try (BackupRepository repo = new BackupRepository(new DirectoryTarget(targetDir), new ObjectCodec(Optional.empty()))) {
                    String cluster = repo.clusters().getFirst();
                    List<SegmentManifest> segments = repo.segments(cluster).stream()
                            .filter(s -> s.firstTime() >= measureFrom && s.lastTime() <= measureTo).toList();
                    long[] processing = segments.stream().mapToLong(s -> s.archivedAt() - s.lastTime()).sorted().toArray();
                    long[] oldest = segments.stream().mapToLong(s -> s.archivedAt() - s.firstTime()).sorted().toArray();
                    double entries = segments.stream().mapToLong(SegmentManifest::entries).average().orElse(0);
                    report.append(String.format(Locale.ROOT, """
                            ## Archive lag at %d writes/s (three zones in one process, archive every 1 s, %d s, %d writes sent, %d failed)

                            | measure (over %d segments of %.0f entries on average) | p50 ms | p99 ms | max ms |
                            |---|---|---|---|
                            | archive lag: newest entry of a segment committed → segment and manifest stored | %d | %d | %d |
                            | oldest entry of a segment committed → stored (the RPO, interval included) | %d | %d | %d |

                            """, rate, rateSeconds, sent.get(), failed.get(), segments.size(), entries, pct(processing, 50), pct(processing, 99),
                            pct(processing, 100), pct(oldest, 50), pct(oldest, 99), pct(oldest, 100)));
                }
            }
        } finally {
            for (BackupAgent a : agents) {
                a.close();
            }
            for (ZoneReplica z : zones) {
                z.close();
            }
        }
    }

    private static long pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return -1;
        }
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, i)];
    }

    /** Copies every file of {@code from} (recursively) into {@code to} with an fsync per file; returns seconds. */
    private static double timeCopy(Path from, Path to) throws IOException {
        long t0 = System.nanoTime();
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                Files.createDirectories(target.getParent());
                try (InputStream in = Files.newInputStream(f); OutputStream out = Files.newOutputStream(target)) {
                    in.transferTo(out);
                }
                try (FileChannel ch = FileChannel.open(target, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Both sides read from disk, not from the page cache (root only; otherwise both read from the cache). */
    private static void dropCaches() {
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        } catch (IOException | RuntimeException e) {
            // not root: both sides then read warm
        }
    }

    private static long folderBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
