package io.petrel.backup;

import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.target.S3Server;
import io.petrel.backup.target.S3Target;
import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StateImage;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Backups into a real S3-compatible server (S3Proxy, its own process) that is killed for a while:
 * the region keeps taking writes, the RPO shows the gap, and when the server returns the archive
 * catches up with nothing lost.
 */
class S3OutageTest {
    @TempDir
    Path tmp;

    @Test
    void whileTheS3ServerIsDownTheRegionServesAndTheArchiveCatchesUpAfterwards() throws Exception {
        try (S3Server s3 = S3Server.launch();
             InProcessGroup group = new InProcessGroup(tmp.resolve("zones"), 3, StoreTuning.DEFAULT.withJournalBytes(64L * 1024 * 1024));
             RatisStore client = group.client()) {
            BackupConfig config = new BackupConfig("s3", Optional.empty(), Duration.ofMillis(300), Duration.ofHours(1), Duration.ZERO,
                    RetentionPolicy.DEFAULT, 64L * 1024 * 1024);
            List<BackupAgent> agents = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    BackupAgent a = new BackupAgent(config, group.replica(i).backupSource(), new S3Target(s3.config("backups", "region")),
                            group.dataDir(i).resolve("backup-work"), Clock.systemUTC());
                    a.start();
                    agents.add(a);
                }
                for (int i = 0; i < 50; i++) {
                    put(client, "before/" + i);
                }
                await().atMost(30, TimeUnit.SECONDS).until(() -> leaderStatus(group, agents).map(s -> s.lastSnapshotIndex() >= 0
                        && s.unarchivedEntries() == 0).orElse(false));

                s3.stop();
                long stopped = System.nanoTime();
                for (int i = 0; i < 100; i++) {
                    put(client, "during/" + i);   // the region keeps taking writes
                }
                await().atMost(20, TimeUnit.SECONDS).until(() -> leaderStatus(group, agents).map(s -> !s.targetReachable()).orElse(false));
                Thread.sleep(2_000);
                BackupAgent.Status down = leaderStatus(group, agents).orElseThrow();
                System.out.printf("MEASURED with S3 down for %.1f s: RPO metric %.1f s, %d entries not archived, %d target errors%n",
                        (System.nanoTime() - stopped) / 1e9, down.rpoSeconds(), down.unarchivedEntries(), down.targetErrors());
                assertThat(down.rpoSeconds()).isGreaterThan(1.5);
                assertThat(down.unarchivedEntries()).isGreaterThanOrEqualTo(100);

                s3.start();
                long restarted = System.nanoTime();
                await().atMost(60, TimeUnit.SECONDS).until(() -> leaderStatus(group, agents).map(s -> s.targetReachable()
                        && s.unarchivedEntries() == 0).orElse(false));
                System.out.printf("MEASURED the archive caught up %.1f s after S3 came back%n", (System.nanoTime() - restarted) / 1e9);
                assertThat(leaderStatus(group, agents).orElseThrow().breaks()).isZero();
            } finally {
                for (BackupAgent a : agents) {
                    a.close();
                }
            }
            try (BackupRepository repo = new BackupRepository(new S3Target(s3.config("backups", "region")), new ObjectCodec(Optional.empty()))) {
                RestorePlan plan = new BackupCatalog(repo).plan(Optional.empty(), new RestorePoint.Latest());
                new Restorer(repo).restore(plan, tmp.resolve("restored"), true, Progress.NONE);
            }
            try (StateImage image = StateImage.open(tmp.resolve("restored"))) {
                for (int i = 0; i < 100; i++) {
                    assertThat(image.get("during/" + i)).as("during/" + i).isPresent();
                }
                assertThat(image.keyCount()).isEqualTo(150);
            }
        }
    }

    private static void put(RatisStore client, String key) {
        client.commit(List.of(new Op.Put(key, key.getBytes(StandardCharsets.UTF_8), Expect.any(), 0)));
    }

    private static Optional<BackupAgent.Status> leaderStatus(InProcessGroup group, List<BackupAgent> agents) {
        for (int i = 0; i < agents.size(); i++) {
            if (group.replica(i).backupSource().leads()) {
                return Optional.of(agents.get(i).status());
            }
        }
        return Optional.empty();
    }
}
