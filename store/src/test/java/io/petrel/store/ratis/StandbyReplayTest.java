package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.Lease;
import io.petrel.store.Op;
import io.petrel.store.ReadConsistency;
import io.petrel.store.RegionReadOnlyException;
import io.petrel.store.Store;
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

/**
 * A standby replays a primary's journal through its own consensus and ends in exactly the primary's
 * state: leases granted, renewed, revoked and expired on the primary's clock (the standby's own clock
 * and terms never touch them), the same revision and digest. Three real voters per region, in this JVM.
 */
class StandbyReplayTest {
    private static final StoreTuning TUNING = StoreTuning.DEFAULT.withDiskReserveBytes(0).withWriteTimeout(Duration.ofSeconds(5))
            .withJournalBytes(64L * 1024 * 1024);
    private Path dir;
    private InProcessGroup primary;
    private InProcessGroup standby;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("petrel-standby-test");
        primary = new InProcessGroup(dir.resolve("primary"), 3, TUNING);
        await().atMost(Duration.ofSeconds(30)).until(() -> primary.replica(0).ready(Duration.ofSeconds(2)));
    }

    @AfterEach
    void stop() throws Exception {
        if (standby != null) {
            standby.close();
        }
        primary.close();
        CheckpointSnapshots.deleteRecursively(dir);
    }

    @Test
    void replayingTheJournalGivesThePrimarysStateAndAPromotionTakesWrites() throws Exception {
        Store p = primary.replica(0).store();
        p.put("a/1", bytes("one"), Expect.any());
        Lease short1 = p.grantLease(Duration.ofMillis(400));
        p.commit(List.of(new Op.Put("a/leased", bytes("goes when the lease runs out"), Expect.any(), short1.id())));

        // The seed: a checkpoint at an exact position, rebased as the start of the standby's own cluster.
        BackupSource source = leader(primary).backupSource();
        Path seed = dir.resolve("seed");
        StatePosition at = source.checkpoint(seed);
        try (StateImage image = StateImage.open(seed)) {
            image.rebaseAsStandby("east", 1, "cluster-east");
            assertThat(image.region().role()).isEqualTo(RegionState.Role.STANDBY);
        }

        // After the seed: writes, a lease that expires on the primary's clock, one revoked, one kept alive.
        Lease short2 = p.grantLease(Duration.ofMillis(300));
        p.commit(List.of(new Op.Put("b/leased", bytes("expires"), Expect.any(), short2.id())));
        Lease revoked = p.grantLease(Duration.ofSeconds(60));
        p.commit(List.of(new Op.Put("c/revoked", bytes("revoked"), Expect.any(), revoked.id())));
        p.revokeLease(revoked.id());
        Lease kept = p.grantLease(Duration.ofSeconds(60));
        p.commit(List.of(new Op.Put("d/kept", bytes("kept"), Expect.any(), kept.id())));
        p.keepAlive(kept.id());
        for (int i = 0; i < 50; i++) {
            p.put("e/" + i, bytes("v" + i), Expect.any());
        }
        p.delete("a/1", Expect.any());
        await().atMost(Duration.ofSeconds(10)).until(() -> p.get("b/leased", ReadConsistency.LINEARIZABLE).value().isEmpty()
                && p.get("a/leased", ReadConsistency.LINEARIZABLE).value().isEmpty());
        RatisStore.QueryResultView before = leader(primary).digest();
        List<JournalEntry> entries = source.readJournal(at.index() + 1, 10_000, Long.MAX_VALUE).entries();
        assertThat(entries.getLast().index()).isEqualTo(leader(primary).backupSource().appliedIndex());

        standby = InProcessGroup.seeded(dir.resolve("standby"), 3, TUNING, seed);
        await().atMost(Duration.ofSeconds(30)).until(() -> standby.replica(0).ready(Duration.ofSeconds(2)));
        // Let the standby's own clock run past every lease: applying its own time would expire them wrongly.
        Thread.sleep(800);
        RegionControl control = leader(standby).regionControl();
        RegionControl.Replayed replayed = control.replay("cluster-east", entries, Duration.ofSeconds(30));
        assertThat(replayed.complete()).as(String.valueOf(replayed.refusal())).isTrue();

        RatisStore.QueryResultView after = leader(standby).digest();
        assertThat(after.revision()).isEqualTo(before.revision());
        assertThat(after.digest()).isEqualTo(before.digest());
        assertThat(control.current().sourceIndex()).isEqualTo(entries.getLast().index());
        assertThat(control.current().divergence()).isNull();

        // Entries already applied are skipped; a gap or another cluster's entries are refused.
        assertThat(control.replay("cluster-east", entries, Duration.ofSeconds(30)).complete()).isTrue();
        assertThat(leader(standby).digest().digest()).isEqualTo(before.digest());
        JournalEntry last = entries.getLast();
        JournalEntry beyond = new JournalEntry(last.term(), last.index() + 5, last.revision(), last.time(), last.logData(), false);
        assertThat(control.replay("cluster-east", List.of(beyond), Duration.ofSeconds(30)).refusal()).contains("does not follow");
        assertThat(control.replay("cluster-other", List.of(beyond), Duration.ofSeconds(30)).refusal()).contains("follows cluster cluster-east");

        // A standby serves reads and refuses its own clients' writes, naming the primary.
        Store s = standby.replica(1).store();
        assertThat(s.get("d/kept", ReadConsistency.LINEARIZABLE).value()).isPresent();
        assertThatThrownBy(() -> s.put("x", bytes("no"), Expect.any())).isInstanceOf(RegionReadOnlyException.class)
                .hasMessageContaining("standby of region east");

        // Promoted, it takes writes, its revisions going on from the primary's.
        control.changeRole(RegionState.Role.PROMOTING, 1, "east", Duration.ofSeconds(10));
        control.changeRole(RegionState.Role.PRIMARY, 2, "west", Duration.ofSeconds(10));
        // A zone refuses client writes until it has applied the promotion itself.
        await().atMost(Duration.ofSeconds(10)).until(() -> standby.replica(1).regionControl().applied().role() == RegionState.Role.PRIMARY);
        long revision = s.put("x", bytes("yes"), Expect.any());
        assertThat(revision).isEqualTo(before.revision() + 1);
        assertThat(s.get("d/kept", ReadConsistency.LINEARIZABLE).value()).isPresent();
        assertThatThrownBy(() -> control.changeRole(RegionState.Role.PRIMARY, 1, "west", Duration.ofSeconds(10)))
                .hasMessageContaining("older than");
    }

    private static ZoneReplica leader(InProcessGroup group) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (int i = 0; i < 3; i++) {
                if (group.replica(i) != null && group.replica(i).regionControl().leads()) {
                    return group.replica(i);
                }
            }
            return null;
        }, r -> r != null);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
