package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.NoQuorumException;
import io.petrel.store.ReadConsistency;
import io.petrel.store.Store;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The Ratis backend's own promises, on three real voters in this JVM. */
class ZoneReplicaTest {
    private Path dir;
    private InProcessGroup group;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("petrel-replica-test");
        group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0).withWriteTimeout(Duration.ofSeconds(3)));
        await().atMost(Duration.ofSeconds(30)).until(() -> group.replica(0).ready(Duration.ofSeconds(2)));
    }

    @AfterEach
    void stop() throws Exception {
        group.close();
        CheckpointSnapshots.deleteRecursively(dir);
    }

    @Test
    void malformedMessagesAreRefusedAndChangeNothing() throws Exception {
        Store store = group.replica(0).store();
        store.put("garbage/k", "v".getBytes(StandardCharsets.UTF_8), Expect.any());
        long revision = store.revision();
        try (RaftClient raw = RatisGroup.client(RatisGroup.of(regionOf(group), peersOf(group)), StoreTuning.DEFAULT)) {
            RaftClientReply write = raw.io().send(Message.valueOf("definitely not CBOR"));
            assertThat(write.isSuccess()).isFalse();
            assertThat(write.getException()).hasMessageContaining(ZoneStateMachine.INVALID);
        } catch (java.io.IOException e) {
            assertThat(e).hasMessageContaining(ZoneStateMachine.INVALID);
        }
        try (RaftClient raw = RatisGroup.client(RatisGroup.of(regionOf(group), peersOf(group)), StoreTuning.DEFAULT)) {
            RaftClientReply read = raw.io().sendReadOnly(Message.valueOf("\u00ff\u00fe garbage"));
            assertThat(read.isSuccess()).isTrue();
            assertThat(Codec.decodeQueryReply(read.getMessage().getContent()).error()).contains(ZoneStateMachine.INVALID).contains("malformed");
        }
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get("garbage/k")).isPresent();
        await().atMost(Duration.ofSeconds(10)).until(() -> java.util.stream.IntStream.range(0, 3)
                .mapToObj(i -> group.replica(i).digest().digest()).distinct().count() == 1);
    }

    @Test
    void aZoneWithoutQuorumRefusesWritesAtOnceButServesLocalReads() throws Exception {
        Store store = group.replica(0).store();
        store.put("alone/k", "v".getBytes(StandardCharsets.UTF_8), Expect.any());
        // Acknowledged by a majority, which need not include this zone: wait until it applied the write.
        await().atMost(Duration.ofSeconds(10)).until(() -> store.get("alone/k", ReadConsistency.LOCAL).value().isPresent());
        group.stop(1);
        group.stop(2);
        // Once this zone has seen no leader for a while, it says so at once instead of retrying.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.put("alone/late", new byte[1], Expect.any()))
                    .isInstanceOf(NoQuorumException.class).hasMessageContaining("no quorum");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(500));
        });
        var read = store.get("alone/k", ReadConsistency.LOCAL);
        assertThat(read.value()).isPresent();
        assertThat(read.staleness().millisSinceLeaderContact()).isEqualTo(-1);
        assertThat(group.replica(0).ready(Duration.ofMillis(500))).isFalse();
    }

    @Test
    void theAppliedIndexIsPersistedWithTheDataAndSurvivesARestart() throws Exception {
        Store store = group.replica(2).store();
        for (int i = 0; i < 50; i++) {
            store.put("persist/" + i, ("v" + i).getBytes(StandardCharsets.UTF_8), Expect.any());
        }
        // Acknowledged means a majority has it: wait until this zone has applied all 50 too.
        await().atMost(Duration.ofSeconds(10)).until(() -> group.replica(1).status().revision() == 50);
        String before = group.replica(1).digest().digest();
        long appliedBefore = group.replica(1).status().appliedIndex();
        group.stop(1);
        group.start(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> group.replica(1).ready(Duration.ofSeconds(2)));
        assertThat(group.replica(1).status().appliedIndex()).isGreaterThanOrEqualTo(appliedBefore);
        assertThat(group.replica(1).digest().digest()).isEqualTo(before);
        assertThat(group.replica(1).store().get("persist/49", ReadConsistency.LOCAL).value()).isPresent();
    }

    @Test
    void snapshotChecksumsAreWrittenAfterTheSnapshotAndOnStartIfAZoneDiedFirst() throws Exception {
        Path own = Files.createTempDirectory("petrel-replica-seal");
        try (InProcessGroup g = new InProcessGroup(own, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0).withSnapshotEveryEntries(100))) {
            Store store = g.replica(0).store();
            for (int i = 0; i < 150; i++) {
                store.put("seal/" + i, ("v" + i).getBytes(StandardCharsets.UTF_8), Expect.any());
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> g.replica(1).status().revision() == 150
                    && latestSnapshot(g.dataDir(1)) != null && CheckpointSnapshots.isSealed(latestSnapshot(g.dataDir(1))));
            String before = g.replica(1).digest().digest();
            g.stop(1);
            Path snapshot = latestSnapshot(g.dataDir(1));
            List<Path> files = CheckpointSnapshots.dataFiles(snapshot);
            assertThat(files).isNotEmpty().allSatisfy(f -> assertThat(Path.of(f + CheckpointSnapshots.MD5_SUFFIX)).exists());

            // As if the zone had been killed between taking the snapshot and writing its checksums.
            for (Path f : files) {
                Files.delete(Path.of(f + CheckpointSnapshots.MD5_SUFFIX));
            }
            Files.createFile(snapshot.resolve(CheckpointSnapshots.UNSEALED));
            long started = System.nanoTime();
            g.start(1);
            await().atMost(Duration.ofSeconds(30)).until(() -> g.replica(1).ready(Duration.ofSeconds(2)));
            System.out.printf("MEASURED zone with an unsealed snapshot ready after %d ms%n", (System.nanoTime() - started) / 1_000_000);
            assertThat(CheckpointSnapshots.isSealed(snapshot)).isTrue();
            assertThat(files).allSatisfy(f -> assertThat(Path.of(f + CheckpointSnapshots.MD5_SUFFIX)).exists());
            CheckpointSnapshots.verify(snapshot);
            assertThat(g.replica(1).digest().digest()).isEqualTo(before);
        } finally {
            CheckpointSnapshots.deleteRecursively(own);
        }
    }

    private static Path latestSnapshot(Path dataDir) throws java.io.IOException {
        try (var walk = Files.walk(dataDir)) {
            return walk.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+") && Files.isDirectory(p))
                    .max(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().replaceAll(".*_", ""))))
                    .orElse(null);
        }
    }

    private static String regionOf(InProcessGroup g) {
        return g.region();
    }

    private static java.util.List<Peer> peersOf(InProcessGroup g) {
        return g.peers();
    }
}
