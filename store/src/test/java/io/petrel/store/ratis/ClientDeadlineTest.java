package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.NoQuorumException;
import io.petrel.store.Op;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every write of a store handle ends within its write timeout, answered or failed, even while the
 * group has no leader: a write that Ratis retried for minutes held one of the handle's few in-flight
 * slots and, in the ordered stream, every write queued behind it, so a whole zone's writes stalled.
 */
class ClientDeadlineTest {

    @Test
    void writesWithoutAQuorumFailWithinTheirTimeoutAndTheSameHandleWritesOnceItIsBack(@TempDir Path dir) throws Exception {
        StoreTuning tuning = StoreTuning.DEFAULT.withDiskReserveBytes(0).withWriteTimeout(Duration.ofSeconds(2));
        try (InProcessGroup group = new InProcessGroup(dir, 3, tuning); RatisStore client = group.client()) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> client.put("deadline/first", bytes("1"), Expect.any()) > 0);

            // The followers go; the leader stays up and takes requests it can never commit, so they hang
            // instead of failing fast (what a frozen or cut-off zone does to a client).
            int leader = await().atMost(Duration.ofSeconds(10)).until(() -> leaderOf(group), i -> i >= 0);
            List<Integer> followers = new ArrayList<>(List.of(0, 1, 2));
            followers.remove(Integer.valueOf(leader));
            followers.forEach(group::stop);
            long sent = System.nanoTime();
            List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                writes.add(client.commitAsync(List.of(new Op.Put("deadline/k" + i, bytes("v"), Expect.any(), 0))));
            }
            int failed = 0;
            for (CompletableFuture<WriteResult> w : writes) {
                try {
                    w.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(NoQuorumException.class);
                    failed++;
                }
            }
            double seconds = (System.nanoTime() - sent) / 1e9;
            System.out.printf("MEASURED 12 writes to a leader without followers: %d failed, all ended after %.2f s (write timeout 2 s)%n",
                    failed, seconds);
            assertThat(failed).as("writes that failed without a quorum").isEqualTo(12);
            // Twelve writes need three rounds of the four in-flight slots, each bounded by the timeout plus a margin.
            assertThat(seconds).as("time until every write ended").isLessThan(20.0);

            for (int f : followers) {
                group.start(f);
            }
            long back = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptionsInstanceOf(NoQuorumException.class)
                    .until(() -> client.put("deadline/after", bytes("2"), Expect.any()) > 0);
            System.out.printf("MEASURED the same handle wrote again %.2f s after the quorum came back%n", (System.nanoTime() - back) / 1e9);
            assertThat(client.get("deadline/after")).isPresent();
        }
    }

    @Test
    void writesSentToAFrozenLeaderEndWithinTheirTimeout(@TempDir Path dir) throws Exception {
        StoreTuning tuning = StoreTuning.DEFAULT.withDiskReserveBytes(0).withWriteTimeout(Duration.ofSeconds(3));
        try (InProcessGroup group = new InProcessGroup(dir, 3, tuning); RatisStore client = group.client()) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> client.put("frozen/first", bytes("1"), Expect.any()) > 0);
            int leader = await().atMost(Duration.ofSeconds(10)).until(() -> leaderOf(group), i -> i >= 0);
            // A frozen process: its port still accepts connections, and nothing on it ever answers.
            group.stop(leader);
            try (java.net.ServerSocket frozen = new java.net.ServerSocket()) {
                frozen.setReuseAddress(true);
                frozen.bind(new java.net.InetSocketAddress("127.0.0.1", group.peers().get(leader).port()));
                List<java.net.Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
                Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        while (true) {
                            held.add(frozen.accept());
                        }
                    } catch (java.io.IOException closed) {
                        // the test is over
                    }
                });
                long sent = System.nanoTime();
                List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    writes.add(client.commitAsync(List.of(new Op.Put("frozen/k" + i, bytes("v"), Expect.any(), 0))));
                    Thread.sleep(25);
                }
                int ok = 0;
                for (CompletableFuture<WriteResult> w : writes) {
                    try {
                        w.get(60, TimeUnit.SECONDS);
                        ok++;
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(NoQuorumException.class);
                    }
                }
                double seconds = (System.nanoTime() - sent) / 1e9;
                System.out.printf("MEASURED 40 writes sent while the leader was frozen: %d acknowledged, all ended after %.2f s "
                        + "(write timeout 3 s)%n", ok, seconds);
                assertThat(seconds).as("time until every write ended").isLessThan(20.0);
                long next = System.nanoTime();
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).ignoreExceptionsInstanceOf(NoQuorumException.class)
                        .until(() -> client.put("frozen/after", bytes("2"), Expect.any()) > 0);
                System.out.printf("MEASURED the same handle then wrote after %.2f s%n", (System.nanoTime() - next) / 1e9);
                frozen.close();
                acceptor.join(1_000);
                for (java.net.Socket s : held) {
                    s.close();
                }
            }
        }
    }

    private static int leaderOf(InProcessGroup group) {
        for (int i = 0; i < 3; i++) {
            if (group.replica(i).status().role().equals("LEADER")) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
