package io.petrel.cli.dr;

import io.petrel.backup.BackupCatalog;
import io.petrel.backup.BackupLayout;
import io.petrel.backup.BackupRepository;
import io.petrel.backup.RestorePlan;
import io.petrel.backup.RestorePoint;
import io.petrel.backup.Restorer;
import io.petrel.cli.backup.Files2;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.dr.EpochLedger;
import io.petrel.store.ratis.StateImage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Seeds a standby region's zones from the primary's backups: the newest snapshot plus the archive after
 * it, made the start of the standby's own cluster, which then follows the primary's archive from
 * there. Refuses, saying why, a target that is not the primary's witness (no epoch, or one held by
 * another region), a snapshot the primary took while it was itself a standby, and damaged objects
 * (every file and segment is checked against its manifest).
 */
public final class StandbySeeder {
    private final BackupRepository repository;

    public StandbySeeder(BackupRepository repository) {
        this.repository = requireNonNull(repository, "repository");
    }

    /** Where the seed stands: the primary's epoch and cluster, and the last entry of it the seed holds. */
    public record Seed(String primary, long epoch, String cluster, long index, long revision, long snapshotIndex, long millis) {
    }

    public Seed seed(RegionLayout standby, String primaryRegion) throws IOException {
        long started = System.nanoTime();
        EpochLedger ledger = new EpochLedger(repository.target());
        EpochLedger.Epoch epoch = ledger.current().orElseThrow(() -> new IOException("the backup target " + repository.target().describe()
                + " holds no disaster-recovery epoch: it is not the witness of a primary region (is region " + primaryRegion
                + " running with disaster recovery, and does it back up there?)"));
        if (!epoch.region().equals(primaryRegion)) {
            throw new IOException("the backup target " + repository.target().describe() + " says region " + epoch.region() + " holds epoch "
                    + epoch.epoch() + ", not region " + primaryRegion + ": refusing to follow another region's backups");
        }
        String cluster = BackupLayout.clusterName(epoch.clusterId());
        RestorePlan plan;
        try {
            plan = new BackupCatalog(repository).plan(Optional.of(cluster), new RestorePoint.Latest());
        } catch (IOException | RuntimeException e) {
            throw new IOException("region " + primaryRegion + "'s backups (cluster " + cluster + ") in " + repository.target().describe()
                    + " cannot seed a standby: " + e.getMessage(), e);
        }
        Path work = standby.dataDir().resolve(".seed-" + System.currentTimeMillis());
        try {
            Path state = work.resolve("state");
            Restorer.Result r = new Restorer(repository).restore(plan, state, false, false, (phase, done, total) -> { });
            try (StateImage image = StateImage.open(state)) {
                image.rebaseAsStandby(primaryRegion, epoch.epoch(), cluster);
            }
            for (ZoneSpec z : standby.zones()) {
                Files2.deleteRecursively(z.dataDir().resolve("state"));
                Files2.deleteRecursively(z.dataDir().resolve("raft"));
                Files2.copyState(state, z.dataDir().resolve("state"));
            }
            return new Seed(primaryRegion, epoch.epoch(), cluster, r.position().index(), r.position().revision(), r.snapshotIndex(),
                    (System.nanoTime() - started) / 1_000_000);
        } finally {
            Files2.deleteRecursively(work);
        }
    }
}
