package io.petrel.backup;

import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.backup.target.BackupTarget;
import io.petrel.store.ratis.BackupSource;
import io.petrel.store.ratis.JournalEntry;
import io.petrel.store.ratis.JournalRead;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * A zone's backups: while this zone leads, ships the applied log to the archive every archive interval,
 * takes a snapshot every snapshot interval (and at once when the cluster has none, or after a break),
 * applies retention after each snapshot, and verifies the newest backup on its own schedule. A target
 * that is away is retried every interval; the region never waits for it (the journal holds what is not
 * archived yet, within its budget).
 */
public final class BackupAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupAgent.class);

    private final BackupConfig config;
    private final BackupSource source;
    private final BackupRepository repository;
    private final Path workDir;
    private final Clock clock;
    private final LogArchiver archiver;
    private final SnapshotWriter snapshots;
    private final ScheduledExecutorService ticker;
    private final ExecutorService snapshotter;
    private final ExecutorService verifier;
    private final AtomicBoolean snapshotRunning = new AtomicBoolean();
    private final AtomicBoolean verifyRunning = new AtomicBoolean();
    private final String cluster;

    // Reported state, written by the agent's threads.
    private volatile boolean leading;
    private volatile boolean clusterHasSnapshot;
    private volatile long lastSnapshotIndex = -1;
    private volatile long lastSnapshotTime = -1;
    private volatile long lastSnapshotBytes = -1;
    private volatile long lastSnapshotUploaded = -1;
    private volatile long lastArchivedEntryTime = -1;
    private volatile long lastArchiveLagMillis = -1;
    /** One volatile record, so that a reader never sees a verification's result without its message. */
    private volatile Verification lastVerification = new Verification(-1, -1, "");
    private volatile String lastError = "";
    private volatile boolean targetDown;
    private volatile long nextVerifyAt;
    private final AtomicLong breaks = new AtomicLong();
    private final AtomicLong lastBreakAfter = new AtomicLong(-1);
    private final AtomicLong targetErrors = new AtomicLong();
    private final AtomicLong segmentsWritten = new AtomicLong();

    public BackupAgent(BackupConfig config, BackupSource source, BackupTarget target, Path workDir, Clock clock) {
        this.config = requireNonNull(config, "config");
        this.source = requireNonNull(source, "source");
        this.repository = new BackupRepository(requireNonNull(target, "target"), new ObjectCodec(config.key()));
        this.workDir = requireNonNull(workDir, "workDir");
        this.clock = requireNonNull(clock, "clock");
        this.archiver = new LogArchiver(repository, workDir.resolve("archive"), clock);
        this.snapshots = new SnapshotWriter(repository, workDir.resolve("snapshot"), clock);
        this.cluster = BackupLayout.clusterName(source.clusterId());
        String zone = source.zone();
        this.ticker = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name(zone + "-backup-archiver").factory());
        this.snapshotter = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name(zone + "-backup-snapshots").factory());
        this.verifier = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name(zone + "-backup-verifier").factory());
        this.nextVerifyAt = clock.millis() + config.verifyInterval().toMillis();
    }

    public void start() {
        long every = config.archiveInterval().toMillis();
        ticker.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
        LOG.info("zone {}: backups to {} (archive every {} ms, snapshot every {} s, {}); cluster {}", source.zone(),
                repository.target().describe(), every, config.snapshotInterval().toSeconds(),
                config.key().map(k -> "encrypted with key " + k.fingerprint()).orElse("not encrypted"), cluster);
    }

    public BackupRepository repository() {
        return repository;
    }

    private void tick() {
        try {
            boolean leads = source.leads();
            if (leads != leading) {
                leading = leads;
                clusterHasSnapshot = false;
                LOG.info("zone {}: {} the backups in term {}", source.zone(), leads ? "takes" : "no longer takes", source.currentTerm());
            }
            if (!leads) {
                return;
            }
            if (targetDown) {
                // Nothing below proves the target is back unless it touches it: ask it something cheap first.
                repository.target().stat(BackupLayout.verification(cluster));
                targetUp();
            }
            if (!clusterHasSnapshot) {
                var existing = repository.snapshots(cluster);
                if (existing.isEmpty()) {
                    snapshotInBackground("the cluster has no snapshot yet", 0);
                } else {
                    SnapshotManifest newest = existing.getLast();
                    lastSnapshotIndex = Math.max(lastSnapshotIndex, newest.index());
                    lastSnapshotTime = Math.max(lastSnapshotTime, newest.takenAt());
                    lastSnapshotBytes = newest.bytes();
                    clusterHasSnapshot = true;
                }
            }
            LogArchiver.Outcome outcome = archiver.archive(source);
            switch (outcome) {
                case LogArchiver.Outcome.Archived a -> {
                    targetUp();
                    segmentsWritten.incrementAndGet();
                    lastArchivedEntryTime = a.segment().lastTime();
                    lastArchiveLagMillis = a.segment().archivedAt() - a.segment().firstTime();
                }
                case LogArchiver.Outcome.UpToDate u -> { }
                case LogArchiver.Outcome.Break b -> {
                    if (!snapshotRunning.get()) {
                        if (lastBreakAfter.getAndSet(b.archivedIndex()) != b.archivedIndex()) {
                            breaks.incrementAndGet();
                            LOG.warn("zone {}: BREAK in the backup archive: entries after index {} were dropped from the journal before they "
                                            + "were archived (the target was away longer than the {}-byte journal lasts); a new snapshot starts a "
                                            + "new restore window", source.zone(), b.archivedIndex(), config.journalBytes());
                        }
                        snapshotInBackground("the archive broke after index " + b.archivedIndex(), Math.max(1, b.archivedIndex()));
                    }
                }
            }
            if (clusterHasSnapshot && clock.millis() - lastSnapshotTime >= config.snapshotInterval().toMillis()) {
                snapshotInBackground("scheduled", 0);
            }
            if (!config.verifyInterval().isZero() && clock.millis() >= nextVerifyAt && clusterHasSnapshot) {
                nextVerifyAt = clock.millis() + config.verifyInterval().toMillis();
                verifyInBackground();
            }
        } catch (IOException | RuntimeException e) {
            targetFailed(e);
        }
    }

    private void targetUp() {
        if (targetDown) {
            targetDown = false;
            LOG.info("zone {}: backup target {} answers again; the archive catches up", source.zone(), repository.target().describe());
        }
    }

    private void targetFailed(Exception e) {
        targetErrors.incrementAndGet();
        lastError = String.valueOf(e.getMessage());
        if (!targetDown) {
            targetDown = true;
            LOG.warn("zone {}: backup to {} failed, retrying every {} ms (the region keeps serving; the journal keeps what is not archived): {}",
                    source.zone(), repository.target().describe(), config.archiveInterval().toMillis(), e.toString());
        }
    }

    /** Takes a snapshot now (what {@code petrel backup now} asks for); completes with its manifest. */
    public CompletableFuture<SnapshotManifest> snapshotNow() {
        if (!source.leads()) {
            return CompletableFuture.failedFuture(new IllegalStateException("zone " + source.zone() + " does not lead; the leader takes backups"));
        }
        return snapshot("asked for", 0);
    }

    private void snapshotInBackground(String why, long breakAfter) {
        snapshot(why, breakAfter).exceptionally(e -> null);
    }

    private CompletableFuture<SnapshotManifest> snapshot(String why, long breakAfter) {
        if (!snapshotRunning.compareAndSet(false, true)) {
            return CompletableFuture.failedFuture(new IllegalStateException("a snapshot is being taken already"));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                LOG.info("zone {}: taking a backup snapshot ({})", source.zone(), why);
                SnapshotWriter.Result r = snapshots.write(source, breakAfter, Progress.NONE);
                // Retention and the next snapshot wait for the key count and digest, so that checkpoints never pile up.
                SnapshotManifest m = r.complete().join();
                if (breakAfter > 0) {
                    repository.write(BackupLayout.breakRecord(cluster, breakAfter, m.index()),
                            new BackupRepository.BreakRecord(breakAfter, m.index(), clock.millis(), why));
                }
                if (breakAfter > 0 || !clusterHasSnapshot) {
                    // What the snapshot covers needs no archiving any more (and after a break, cannot have it).
                    if (source.archivedIndex() < m.index()) {
                        source.markArchived(m.index(), java.time.Duration.ofSeconds(10));
                    }
                }
                clusterHasSnapshot = true;
                lastSnapshotIndex = m.index();
                lastSnapshotTime = m.takenAt();
                lastSnapshotBytes = m.bytes();
                lastSnapshotUploaded = r.uploadedBytes();
                new Pruner(repository, clock).prune(config.retention(), false);
                targetUp();
                return m;
            } catch (IOException | RuntimeException e) {
                LOG.warn("zone {}: backup snapshot failed: {}", source.zone(), e.toString());
                targetFailed(e);
                throw new java.util.concurrent.CompletionException(e);
            } finally {
                snapshotRunning.set(false);
            }
        }, snapshotter);
    }

    private void verifyInBackground() {
        if (!verifyRunning.compareAndSet(false, true)) {
            return;
        }
        verifier.execute(() -> {
            try {
                Verifier.Report report = new Verifier(repository).verify(Optional.of(cluster), workDir.resolve("verify"), false, Progress.NONE);
                long time = clock.millis();
                String message = report.ok() ? "restored to index " + report.restored().map(r -> r.position().index()).orElse(-1L)
                        : String.join("; ", report.problems());
                repository.write(BackupLayout.verification(cluster), Map.of("time", time, "ok", report.ok(),
                        "problems", report.problems(), "millis", report.millis()));
                lastVerification = new Verification(time, report.ok() ? 1 : 0, message);
                if (report.ok()) {
                    LOG.info("zone {}: scheduled backup verification passed in {} ms ({})", source.zone(), report.millis(), message);
                } else {
                    LOG.error("zone {}: scheduled backup verification FAILED: {}", source.zone(), message);
                }
            } catch (IOException | RuntimeException e) {
                lastVerification = new Verification(clock.millis(), 0, String.valueOf(e.getMessage()));
                LOG.error("zone {}: scheduled backup verification could not run: {}", source.zone(), e.toString());
            } finally {
                verifyRunning.set(false);
            }
        });
    }

    /** What the metrics and {@code /admin/v1/backup} report. */
    public record Status(String target, boolean leads, boolean targetReachable, long appliedIndex, long archivedIndex,
                         long unarchivedEntries, double rpoSeconds, double newestArchivedAgeSeconds, long archiveLagMillis,
                         long lastSnapshotIndex, long lastSnapshotTime, long lastSnapshotBytes, long lastSnapshotUploadedBytes,
                         long segmentsWritten, long breaks, long targetErrors, String lastError, long lastVerifyTime,
                         int lastVerifyResult, String lastVerifyMessage) {
    }

    public Status status() {
        long now = clock.millis();
        long archived = source.archivedIndex();
        long applied = source.appliedIndex();
        long unarchived = 0;
        double rpo = 0;
        try {
            JournalRead read = source.readJournal(archived + 1, 10_000, 8L * 1024 * 1024);
            for (JournalEntry e : read.entries()) {
                if (!e.bookkeeping()) {
                    if (unarchived == 0) {
                        rpo = Math.max(0, now - e.time()) / 1000.0;
                    }
                    unarchived++;
                }
            }
        } catch (RuntimeException e) {
            rpo = Double.NaN;
        }
        Verification verification = lastVerification;
        return new Status(repository.target().describe(), leading, !targetDown, applied, archived, unarchived, rpo,
                lastArchivedEntryTime < 0 ? Double.NaN : Math.max(0, now - lastArchivedEntryTime) / 1000.0, lastArchiveLagMillis,
                lastSnapshotIndex, lastSnapshotTime, lastSnapshotBytes, lastSnapshotUploaded, segmentsWritten.get(), breaks.get(),
                targetErrors.get(), lastError, verification.time(), verification.result(), verification.message());
    }

    private record Verification(long time, int result, String message) {
    }

    @Override
    public void close() throws IOException {
        ticker.shutdownNow();
        snapshotter.shutdownNow();
        verifier.shutdownNow();
        try {
            ticker.awaitTermination(5, TimeUnit.SECONDS);
            snapshotter.awaitTermination(10, TimeUnit.SECONDS);
            verifier.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        snapshots.close();
        repository.close();
    }
}
