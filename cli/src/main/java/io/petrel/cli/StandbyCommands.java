package io.petrel.cli;

import io.petrel.backup.BackupRepository;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.target.BackupTargets;
import io.petrel.cli.dr.DrClient;
import io.petrel.cli.dr.StandbySeeder;
import io.petrel.cli.local.NamedRegions;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Optional;

/** What {@code up --standby-of} and {@code region failback} share: seeding a named region as a standby of another. */
final class StandbyCommands {
    private StandbyCommands() {
    }

    static boolean seeded(RegionLayout layout) {
        return layout.zones().stream().anyMatch(z -> Files.isDirectory(z.dataDir().resolve("state")));
    }

    /**
     * Seeds {@code standby}'s zones from {@code primaryRegion}'s newest backup. Asks the primary for a fresh
     * snapshot first (a seed then replays little), and goes on without one if it cannot take it.
     */
    static StandbySeeder.Seed seed(RegionLayout standby, String primaryRegion, NamedRegions named) throws IOException {
        if (RegionLayout.exists(named.dir(primaryRegion))) {
            RegionLayout primary = RegionLayout.load(named.dir(primaryRegion));
            try {
                new DrClient().postToLeader(primary, "/admin/v1/backup/snapshot", Duration.ofMinutes(5));
            } catch (IOException e) {
                System.err.printf("note: region %s took no fresh snapshot (%s); seeding from its newest backup%n", primaryRegion, e.getMessage());
            }
        }
        try (BackupRepository repo = new BackupRepository(BackupTargets.open(standby.backupTarget(), System.getenv()),
                new ObjectCodec(Optional.empty()))) {
            StandbySeeder.Seed seed = new StandbySeeder(repo).seed(standby, primaryRegion);
            System.out.printf("seeded region %s as a standby of region %s (epoch %d): cluster %s up to entry %d (revision %d) from snapshot %d, in %d ms%n",
                    standby.region(), primaryRegion, seed.epoch(), seed.cluster(), seed.index(), seed.revision(), seed.snapshotIndex(), seed.millis());
            return seed;
        }
    }

    static String zonesOf(RegionLayout layout) {
        return String.join(",", layout.zones().stream().map(ZoneSpec::zone).toList());
    }
}
