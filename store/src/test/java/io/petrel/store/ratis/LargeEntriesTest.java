package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.StoreLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The largest commit the store allows, and many large commits at once, reach every replica. Ratis
 * refuses to append a log entry larger than its appender's buffer (4 MB unless told otherwise), and
 * such a refusal failed the write and every write grouped into the same entry.
 */
class LargeEntriesTest {

    @Test
    void theLargestCommitAndAGroupOfLargeCommitsReachEveryReplica(@TempDir Path dir) throws Exception {
        try (InProcessGroup group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0)); RatisStore client = group.client()) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> client.put("large/first", new byte[1], Expect.any()) > 0);
            Random random = new Random(7);
            int valueBytes = StoreLimits.DEFAULT.maxValueBytes() - 64 * 1024;
            int values = (int) (StoreLimits.DEFAULT.maxCommitBytes() / StoreLimits.DEFAULT.maxValueBytes());
            List<Op> largest = new ArrayList<>();
            for (int i = 0; i < values; i++) {
                largest.add(new Op.Put("large/one/" + i, bytes(random, valueBytes), Expect.any(), 0));
            }
            long started = System.nanoTime();
            long revision = client.commit(largest);
            System.out.printf("MEASURED a commit of %d values of %d bytes took %d ms%n", values, valueBytes,
                    (System.nanoTime() - started) / 1_000_000);

            // Commits sent together go into as few entries as the group committer can make.
            List<CompletableFuture<WriteResult>> together = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                together.add(client.commitAsync(List.of(new Op.Put("large/many/" + i, bytes(random, valueBytes), Expect.any(), 0))));
            }
            long last = 0;
            for (CompletableFuture<WriteResult> f : together) {
                last = Math.max(last, f.get(60, TimeUnit.SECONDS).revision());
            }
            assertThat(last).isGreaterThan(revision);

            long target = last;
            await().atMost(Duration.ofSeconds(60)).until(() -> IntStream.range(0, 3).allMatch(i -> group.replica(i).status().revision() >= target));
            assertThat(IntStream.range(0, 3).mapToObj(i -> group.replica(i).digest().digest()).distinct())
                    .as("digests of the three replicas").hasSize(1);
        }
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
