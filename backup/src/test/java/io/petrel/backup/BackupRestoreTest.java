package io.petrel.backup;

import io.petrel.backup.format.BackupKey;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.backup.target.DirectoryTarget;
import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StateImage;
import io.petrel.store.ratis.StoreTuning;
import io.petrel.store.ratis.ZoneReplica;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Backups of a real three-voter group (Ratis + RocksDB in this JVM) into a directory, and restores from them. */
class BackupRestoreTest {
    @TempDir
    Path tmp;
    private InProcessGroup group;
    private RatisStore client;
    private final List<BackupAgent> agents = new ArrayList<>();

    private void start(Optional<BackupKey> key, long journalBytes, Path targetDir) throws IOException {
        start(key, journalBytes, targetDir, Duration.ZERO);
    }

    private void start(Optional<BackupKey> key, long journalBytes, Path targetDir, Duration verifyEvery) throws IOException {
        group = new InProcessGroup(tmp.resolve("zones"), 3, StoreTuning.DEFAULT.withJournalBytes(journalBytes));
        client = group.client();
        BackupConfig config = new BackupConfig(targetDir.toString(), key, Duration.ofMillis(200), Duration.ofHours(1), verifyEvery,
                RetentionPolicy.DEFAULT, journalBytes);
        for (int i = 0; i < 3; i++) {
            BackupAgent agent = new BackupAgent(config, group.replica(i).backupSource(), new DirectoryTarget(targetDir),
                    group.dataDir(i).resolve("backup-work"), Clock.systemUTC());
            agent.start();
            agents.add(agent);
        }
    }

    @AfterEach
    void stop() throws IOException {
        for (BackupAgent a : agents) {
            a.close();
        }
        if (client != null) {
            client.close();
        }
        if (group != null) {
            group.close();
        }
    }

    private BackupRepository repository(Path targetDir, Optional<BackupKey> key) throws IOException {
        return new BackupRepository(new DirectoryTarget(targetDir), new ObjectCodec(key));
    }

    private void put(String key, String value) {
        client.commit(List.of(new Op.Put(key, value.getBytes(StandardCharsets.UTF_8), Expect.any(), 0)));
    }

    private ZoneReplica leader() {
        await().atMost(20, TimeUnit.SECONDS).until(() -> leaderIndex() >= 0);
        return group.replica(leaderIndex());
    }

    private int leaderIndex() {
        for (int i = 0; i < 3; i++) {
            if (group.replica(i) != null && group.replica(i).backupSource().leads()) {
                return i;
            }
        }
        return -1;
    }

    /** Waits until the leader's agent has a snapshot and has archived every data entry. */
    private void awaitArchived() {
        await().atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(100)).until(() -> {
            int l = leaderIndex();
            if (l < 0) {
                return false;
            }
            BackupAgent.Status s = agents.get(l).status();
            return s.lastSnapshotIndex() >= 0 && s.unarchivedEntries() == 0;
        });
    }

    private Restorer.Result restore(Path targetDir, Optional<BackupKey> key, RestorePoint point, Path into) throws IOException {
        try (BackupRepository repo = repository(targetDir, key)) {
            RestorePlan plan = new BackupCatalog(repo).plan(Optional.empty(), point);
            return new Restorer(repo).restore(plan, into, true, Progress.NONE);
        }
    }

    @Test
    void restoresTheLatestPointAndAnyIndexExactly() throws Exception {
        Path target = tmp.resolve("backups");
        start(Optional.empty(), 64L * 1024 * 1024, target);
        for (int i = 0; i < 300; i++) {
            put("a/" + i, "first " + i);
        }
        awaitArchived();
        var reference = leader().digest();   // the live state, replayed by a replica up to its applied index
        for (int i = 0; i < 300; i++) {
            if (i % 3 == 0) {
                client.delete("a/" + i, Expect.any());
            } else {
                put("a/" + i, "second " + i);
            }
        }
        awaitArchived();
        var latestLive = leader().digest();

        long started = System.nanoTime();
        Restorer.Result atIndex = restore(target, Optional.empty(), new RestorePoint.AtIndex(reference.appliedIndex()), tmp.resolve("r1"));
        System.out.printf("restore to index %d: %d entries replayed in %d ms%n", reference.appliedIndex(), atIndex.entriesReplayed(),
                (System.nanoTime() - started) / 1_000_000);
        assertThat(atIndex.position().index()).isEqualTo(reference.appliedIndex());
        assertThat(atIndex.digest()).isEqualTo(reference.digest());
        assertThat(atIndex.keys()).isEqualTo(300);

        Restorer.Result latest = restore(target, Optional.empty(), new RestorePoint.Latest(), tmp.resolve("r2"));
        assertThat(latest.digest()).isEqualTo(latestLive.digest());
        assertThat(latest.keys()).isEqualTo(200);
        try (StateImage image = StateImage.open(tmp.resolve("r2"))) {
            assertThat(image.position().index()).isZero(); // rebased: a new cluster's log starts again
            assertThat(image.position().revision()).isEqualTo(latestLive.revision());
            assertThat(new String(image.get("a/1").orElseThrow().value(), StandardCharsets.UTF_8)).isEqualTo("second 1");
        }
    }

    @Test
    void restoreToATimeJustBeforeADeleteGetsTheEntityBack() throws Exception {
        Path target = tmp.resolve("backups");
        start(Optional.empty(), 64L * 1024 * 1024, target);
        put("ns/guest/actions/precious", "{\"exec\":\"code\"}");
        for (int i = 0; i < 50; i++) {
            put("other/" + i, "x");
        }
        awaitArchived();
        Thread.sleep(300);
        Instant beforeDelete = Instant.now();
        Thread.sleep(300);
        client.delete("ns/guest/actions/precious", Expect.any());
        put("other/after", "y");
        awaitArchived();

        restore(target, Optional.empty(), new RestorePoint.AtTime(beforeDelete), tmp.resolve("before"));
        try (StateImage image = StateImage.open(tmp.resolve("before"))) {
            assertThat(image.get("ns/guest/actions/precious")).isPresent();
            assertThat(image.get("other/after")).isEmpty();
        }
        restore(target, Optional.empty(), new RestorePoint.Latest(), tmp.resolve("after"));
        try (StateImage image = StateImage.open(tmp.resolve("after"))) {
            assertThat(image.get("ns/guest/actions/precious")).isEmpty();
            assertThat(image.get("other/after")).isPresent();
        }
    }

    @Test
    void aSecondSnapshotUploadsNoUnchangedTableFile() throws Exception {
        Path target = tmp.resolve("backups");
        start(Optional.empty(), 64L * 1024 * 1024, target);
        byte[] big = new byte[64 * 1024];
        new SecureRandom().nextBytes(big);
        for (int i = 0; i < 200; i++) {
            client.commit(List.of(new Op.Put("big/" + i, big, Expect.any(), 0)));
        }
        awaitArchived();
        BackupAgent agent = agents.get(leaderIndex());
        SnapshotManifest first = agent.snapshotNow().get(60, TimeUnit.SECONDS);
        SnapshotManifest second = agent.snapshotNow().get(60, TimeUnit.SECONDS);
        BackupAgent.Status s = agent.status();
        System.out.printf("snapshots of %d bytes; the second uploaded %d bytes%n", second.bytes(), s.lastSnapshotUploadedBytes());
        long tables = second.files().stream().filter(f -> f.name().endsWith(".sst")).mapToLong(SnapshotManifest.FileEntry::size).sum();
        assertThat(tables).isGreaterThan(10L * 1024 * 1024);
        assertThat(s.lastSnapshotUploadedBytes()).isLessThan(tables / 10);
        assertThat(first.files().stream().filter(f -> f.name().endsWith(".sst")).map(SnapshotManifest.FileEntry::object).toList())
                .containsAll(second.files().stream().filter(f -> f.name().endsWith(".sst")).map(SnapshotManifest.FileEntry::object).toList());
    }

    @Test
    void aDamagedOrMissingBackupFileIsNamedByVerifyAndRefusedByRestore() throws Exception {
        Path target = tmp.resolve("backups");
        start(Optional.empty(), 64L * 1024 * 1024, target);
        for (int i = 0; i < 100; i++) {
            put("k/" + i, "v" + i);
        }
        awaitArchived();
        for (BackupAgent a : agents) {
            a.close();
        }
        agents.clear();
        try (BackupRepository repo = repository(target, Optional.empty())) {
            Verifier.Report clean = new Verifier(repo).verify(Optional.empty(), tmp.resolve("scratch"), true, Progress.NONE);
            assertThat(clean.problems()).isEmpty();
            String cluster = new BackupCatalog(repo).defaultCluster();
            SegmentManifest segment = repo.segments(cluster).getLast();
            SnapshotManifest snapshot = repo.snapshots(cluster).getLast();
            String table = snapshot.files().stream().filter(f -> f.size() > 100).findFirst().orElseThrow().object();

            Path segmentFile = target.resolve(segment.object());
            byte[] original = Files.readAllBytes(segmentFile);
            Files.write(segmentFile, java.util.Arrays.copyOf(original, original.length / 2));   // truncated
            assertVerifyAndRestoreName(repo, target, segment.object());
            byte[] flipped = original.clone();
            flipped[flipped.length / 2] ^= 0x5a;                                                 // corrupted
            Files.write(segmentFile, flipped);
            assertVerifyAndRestoreName(repo, target, segment.object());
            Files.write(segmentFile, original);

            Path tableFile = target.resolve(table);
            byte[] tableBytes = Files.readAllBytes(tableFile);
            Files.delete(tableFile);                                                            // missing
            assertVerifyAndRestoreName(repo, target, table);
            Files.write(tableFile, tableBytes);
            assertThat(new Verifier(repo).verify(Optional.empty(), tmp.resolve("scratch"), true, Progress.NONE).problems()).isEmpty();
        }
    }

    private void assertVerifyAndRestoreName(BackupRepository repo, Path target, String object) throws IOException {
        Verifier.Report report = new Verifier(repo).verify(Optional.empty(), tmp.resolve("scratch"), true, Progress.NONE);
        assertThat(report.ok()).isFalse();
        assertThat(String.join("\n", report.problems())).contains(object);
        Path into = tmp.resolve("refused-" + System.nanoTime());
        assertThatThrownBy(() -> restore(target, Optional.empty(), new RestorePoint.Latest(), into)).hasMessageContaining(object);
    }

    @Test
    void pruningKeepsEveryRestorePointThePolicyKeepsAndNothingElse() throws Exception {
        Path target = tmp.resolve("backups");
        start(Optional.empty(), 64L * 1024 * 1024, target);
        BackupAgent agent = null;
        List<Long> snapshotIndexes = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 40; i++) {
                put("round" + round + "/" + i, "v" + round);
            }
            awaitArchived();
            agent = agents.get(leaderIndex());
            snapshotIndexes.add(agent.snapshotNow().get(60, TimeUnit.SECONDS).index());
        }
        put("last/1", "after every snapshot");
        awaitArchived();
        for (BackupAgent a : agents) {
            a.close();
        }
        agents.clear();
        try (BackupRepository repo = repository(target, Optional.empty())) {
            String cluster = new BackupCatalog(repo).defaultCluster();
            int before = repo.snapshots(cluster).size();
            long filesBefore = repo.target().list("files/").size();
            // Keep the newest two whatever their age; every older one is past the (zero) age limit.
            Pruner.Report dry = new Pruner(repo, Clock.systemUTC()).prune(new RetentionPolicy(Duration.ZERO, 2), true);
            assertThat(repo.snapshots(cluster)).hasSize(before);
            assertThat(repo.target().list("files/")).hasSize((int) filesBefore);
            Pruner.Report report = new Pruner(repo, Clock.systemUTC()).prune(new RetentionPolicy(Duration.ZERO, 2), false);
            assertThat(report.deleted()).containsExactlyInAnyOrderElementsOf(dry.deleted());
            List<SnapshotManifest> kept = repo.snapshots(cluster);
            assertThat(kept).hasSize(2);
            long oldestKept = kept.getFirst().index();
            assertThat(oldestKept).isEqualTo(snapshotIndexes.get(snapshotIndexes.size() - 2));
            assertThat(repo.segments(cluster)).allMatch(seg -> seg.lastIndex() > oldestKept);
            System.out.printf("pruned %d objects (%d bytes); %d snapshots kept%n", report.deleted().size(), report.deletedBytes(), kept.size());
            // Every point the kept snapshots reach can still be restored, and every file they name is there.
            assertThat(new Verifier(repo).verify(Optional.empty(), tmp.resolve("scratch"), true, Progress.NONE).problems()).isEmpty();
            Restorer.Result atOldest = new Restorer(repo).restore(new BackupCatalog(repo).plan(Optional.empty(),
                    new RestorePoint.AtIndex(oldestKept)), tmp.resolve("oldest"), true, Progress.NONE);
            assertThat(atOldest.position().index()).isEqualTo(oldestKept);
            Restorer.Result latest = new Restorer(repo).restore(new BackupCatalog(repo).plan(Optional.empty(), new RestorePoint.Latest()),
                    tmp.resolve("latest"), true, Progress.NONE);
            assertThat(latest.keys()).isEqualTo(161);
            assertThatThrownBy(() -> new BackupCatalog(repo).plan(Optional.empty(), new RestorePoint.AtIndex(snapshotIndexes.getFirst())))
                    .hasMessageContaining("no restore point at log index " + snapshotIndexes.getFirst());
        }
    }

    @Test
    void theScheduledVerificationRestoresTheNewestBackupAndReportsIt() throws Exception {
        Path target = tmp.resolve("backups");
        start(Optional.empty(), 64L * 1024 * 1024, target, Duration.ofSeconds(2));
        for (int i = 0; i < 50; i++) {
            put("v/" + i, "x");
        }
        awaitArchived();
        await().atMost(30, TimeUnit.SECONDS).until(() -> agents.get(leaderIndex()).status().lastVerifyResult() == 1);
        BackupAgent.Status s = agents.get(leaderIndex()).status();
        System.out.printf("scheduled verification: %s%n", s.lastVerifyMessage());
        assertThat(s.lastVerifyMessage()).startsWith("restored to index");
        try (BackupRepository repo = repository(target, Optional.empty())) {
            String cluster = new BackupCatalog(repo).defaultCluster();
            assertThat(repo.target().stat(BackupLayout.verification(cluster))).isPresent();
            // A damaged segment turns the next scheduled verification into a failure, reported the same way. The
            // snapshot may cover every write so far (then no segment exists yet): write on until one is archived.
            await().atMost(30, TimeUnit.SECONDS).until(() -> {
                put("v/more", "x");
                return !repo.segments(cluster).isEmpty();
            });
            SegmentManifest segment = repo.segments(cluster).getLast();
            Files.write(target.resolve(segment.object()), "garbage".getBytes(StandardCharsets.UTF_8));
        }
        await().atMost(30, TimeUnit.SECONDS).until(() -> agents.get(leaderIndex()).status().lastVerifyResult() == 0);
        assertThat(agents.get(leaderIndex()).status().lastVerifyMessage()).contains("archive segment");
    }

    @Test
    void encryptedBackupsNeedTheirKey() throws Exception {
        Path target = tmp.resolve("backups");
        BackupKey key = BackupKey.of(new SecureRandom().generateSeed(32));
        start(Optional.of(key), 64L * 1024 * 1024, target);
        put("secret/1", "the tenant's data");
        awaitArchived();
        Restorer.Result ok = restore(target, Optional.of(key), new RestorePoint.Latest(), tmp.resolve("ok"));
        assertThat(ok.keys()).isEqualTo(1);
        try (var files = Files.walk(target)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).doesNotContain("the tenant's data");
            }
        }
        BackupKey wrong = BackupKey.of(new SecureRandom().generateSeed(32));
        assertThatThrownBy(() -> restore(target, Optional.of(wrong), new RestorePoint.Latest(), tmp.resolve("wrong")))
                .hasMessageContaining("wrong backup key").hasMessageContaining(key.fingerprint());
        assertThatThrownBy(() -> restore(target, Optional.empty(), new RestorePoint.Latest(), tmp.resolve("none")))
                .hasMessageContaining("is encrypted");
    }

    @Test
    void aTargetAwayLongerThanTheJournalBreaksTheWindowAndANewSnapshotResumesIt() throws Exception {
        Path target = tmp.resolve("backups");
        start(Optional.empty(), 1024L * 1024, target);
        put("before/1", "x");
        awaitArchived();
        Path away = tmp.resolve("backups-away");
        Files.move(target, away);
        Files.writeString(target, "not a directory: the target is unreachable");
        byte[] value = new byte[32 * 1024];
        for (int i = 0; i < 100; i++) {   // ~3 MiB: three times the journal's budget
            client.commit(List.of(new Op.Put("during/" + i, value, Expect.any(), 0)));
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> !agents.get(leaderIndex()).status().targetReachable());
        Files.delete(target);
        Files.move(away, target);
        await().atMost(30, TimeUnit.SECONDS).until(() -> agents.get(leaderIndex()).status().breaks() > 0);
        put("after/1", "y");
        awaitArchived();
        try (BackupRepository repo = repository(target, Optional.empty())) {
            String cluster = new BackupCatalog(repo).defaultCluster();
            assertThat(repo.breaks(cluster)).hasSize(1);
        }
        Restorer.Result latest = restore(target, Optional.empty(), new RestorePoint.Latest(), tmp.resolve("latest"));
        assertThat(latest.keys()).isEqualTo(102);
        System.out.printf("break recorded; latest restore has %d keys at index %d%n", latest.keys(), latest.position().index());
    }
}
