package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.Op;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replica's digest names the applied index it covers. Read while entries are applied, it must be
 * the digest of the state at exactly that index: zones compare digests at equal indexes to prove
 * they hold the same state, so a digest of a later state reported with an earlier index looks like a
 * divergence that is not there (LeaderKillTest saw one).
 */
class KvStateDigestTest {

    @Test
    void aDigestReadDuringAppliesIsTheDigestOfTheIndexItNames(@TempDir Path dir) throws Exception {
        int entries = 1_000;
        List<List<WriteCmd>> log = new ArrayList<>();
        for (int i = 0; i < entries; i++) {
            List<WriteCmd> cmds = new ArrayList<>();
            for (int j = 0; j < 1 + i % 3; j++) {
                String key = "k/" + (i * 7 + j) % 150;
                cmds.add(WriteCmd.commit(List.of(new Op.Put(key, ("v" + i + "-" + j).getBytes(StandardCharsets.UTF_8), Expect.any(), 0))));
            }
            log.add(cmds);
        }

        // The reference: one replica's digest after each entry, read with nothing else going on.
        Map<Long, String> reference = new HashMap<>();
        try (KvState quiet = KvState.open(dir.resolve("quiet"), false)) {
            for (int i = 0; i < entries; i++) {
                quiet.apply(1, i + 1, 1_000 + i, log.get(i));
                reference.put((long) i + 1, quiet.positionedDigest().digest());
            }
        }

        // Another replica applies the same log while a reader asks for its digest as often as it can.
        Map<Long, String> seen = new ConcurrentHashMap<>();
        List<Long> twoDigests = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean done = new AtomicBoolean();
        try (KvState busy = KvState.open(dir.resolve("busy"), false)) {
            Thread reader = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    KvState.PositionedDigest d = busy.positionedDigest();
                    if (d.appliedIndex() > 0) {
                        String first = seen.putIfAbsent(d.appliedIndex(), d.digest());
                        if (first != null && !first.equals(d.digest())) {
                            twoDigests.add(d.appliedIndex());
                        }
                    }
                }
            });
            for (int i = 0; i < entries; i++) {
                busy.apply(1, i + 1, 1_000 + i, log.get(i));
                // Entries come one at a time in a replica too; the pause lets the reader land between them and inside them.
                java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            }
            done.set(true);
            reader.join();
        }

        assertThat(seen.keySet()).as("digests read during the applies").hasSizeGreaterThan(50);
        assertThat(twoDigests).as("indexes reported with two different digests").isEmpty();
        seen.forEach((index, digest) -> assertThat(digest).as("digest reported at index %d", index).isEqualTo(reference.get(index)));
    }
}
