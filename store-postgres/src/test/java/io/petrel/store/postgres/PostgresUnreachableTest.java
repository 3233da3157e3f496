package io.petrel.store.postgres;

import io.petrel.store.Expect;
import io.petrel.store.NoQuorumException;
import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The database goes away: requests fail fast with an error naming it, many callers at once do not pile threads
 * up, and service (watches included) resumes by itself when the database is back.
 */
class PostgresUnreachableTest {
    private static final int CALLERS = 64;
    private static final int REQUESTS = CALLERS * 3;

    private PostgresCluster cluster;
    private PostgresStore store;

    @AfterEach
    void cleanUp() {
        if (store != null) {
            store.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void requestsFailFastWhileTheDatabaseIsDownAndServiceResumesWhenItIsBack() throws Exception {
        cluster = PostgresCluster.start(false);
        store = PostgresStore.open(cluster.config(), Duration.ofSeconds(30));
        String prefix = "unreachable/" + System.nanoTime() + "/";
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        try (Watch watch = store.watch(prefix, events::add)) {
            store.put(prefix + "before", b("1"), Expect.absent());
            assertThat(events.poll(10, TimeUnit.SECONDS)).isNotNull();

            cluster.stopPrimary();
            String where = "127.0.0.1:" + cluster.primary().port();

            long t0 = System.nanoTime();
            assertThatThrownBy(() -> store.put(prefix + "during", b("x"), Expect.any()))
                    .isInstanceOf(NoQuorumException.class)
                    .hasMessageContaining("PostgreSQL store at " + where)
                    .hasMessageContaining("unreachable");
            long single = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(single).as("one request while the database is down").isLessThan(3000);

            // Many callers at once: each fails within the same bound, and the store starts no thread per caller.
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            AtomicInteger peakExtra = new AtomicInteger();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (sampling.get()) {
                    peakExtra.accumulateAndGet(ManagementFactory.getThreadMXBean().getThreadCount() - threadsBefore, Math::max);
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                long worst = slowestFailureOfConcurrentCallers(prefix, "down");
                sampling.set(false);
                sampler.join();
                // The callers' own pool is CALLERS threads; the store may add a few of its own (pool housekeeping), no more.
                int storeThreads = peakExtra.get() - CALLERS - 1;
                System.out.printf("MEASURED: with the database down a request failed after %d ms; %d concurrent requests (%d callers) each"
                        + " failed within %d ms; threads beyond the callers' at the peak: %d%n", single, REQUESTS, CALLERS, worst,
                        Math.max(0, storeThreads));
                assertThat(worst).as("slowest failure among concurrent callers").isLessThan(3000);
                assertThat(storeThreads).as("threads the store added under load").isLessThan(10);
            } finally {
                sampling.set(false);
            }

            long restarted = System.nanoTime();
            cluster.startPrimary();
            long resumed = millisUntilWritesResume(prefix + "after", restarted);
            assertThat(resumed).as("writes resume once the database is back").isNotNegative();
            // The watcher reconnected by itself and gets what was written after the outage.
            WatchEvent after = events.poll(15, TimeUnit.SECONDS);
            assertThat(after).isNotNull();
            assertThat(after.kv().key()).isEqualTo(prefix + "after");
            System.out.printf("MEASURED: service resumed %d ms after the database was started again (pg_ctl start -w returned)%n", resumed);
        }
    }

    @Test
    void aBlackHoledDatabaseIsNoticedOnceAndThenRequestsFailFast() throws Exception {
        cluster = PostgresCluster.start(false);
        store = PostgresStore.open(cluster.config(), Duration.ofSeconds(30));
        String prefix = "blackhole/" + System.nanoTime() + "/";
        store.put(prefix + "before", b("1"), Expect.absent());
        org.junit.jupiter.api.Assumptions.assumeTrue(cluster.blockPrimary(), "black-holing a port needs root (iptables)");
        try {
            // The first request meets a pooled connection whose packets now vanish: it fails at the socket timeout.
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> store.put(prefix + "during", b("x"), Expect.any()))
                    .isInstanceOf(NoQuorumException.class)
                    .hasMessageContaining("PostgreSQL store at 127.0.0.1:" + cluster.primary().port());
            long first = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(first).as("the request that finds out").isLessThan(PostgresConfig.DEFAULT_SOCKET_TIMEOUT.toMillis() + 3000);

            // From then on every request fails at once, however many come, and none waits on a dead connection.
            long worst = slowestFailureOfConcurrentCallers(prefix, "black-holed");
            assertThat(worst).as("slowest failure once the outage is known").isLessThan(3000);

            long unblocked = System.nanoTime();
            cluster.unblockPrimary();
            long resumed = millisUntilWritesResume(prefix + "after", unblocked);
            assertThat(resumed).as("writes resume once the port is open again").isNotNegative();
            System.out.printf("MEASURED: with the database's port black-holed the first request failed after %d ms (socket timeout %d ms),"
                            + " then %d concurrent requests each within %d ms; service resumed %d ms after the port was opened%n",
                    first, PostgresConfig.DEFAULT_SOCKET_TIMEOUT.toMillis(), REQUESTS, worst, resumed);
        } finally {
            cluster.unblockPrimary();
        }
    }

    /**
     * {@link #REQUESTS} reads and writes from {@link #CALLERS} threads at once, each of which must fail with
     * "no quorum" while the database is {@code state}; how long the slowest took to fail.
     */
    private long slowestFailureOfConcurrentCallers(String prefix, String state) throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
        try {
            List<Future<Long>> futures = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                int n = i;
                futures.add(callers.submit(() -> {
                    long s = System.nanoTime();
                    try {
                        if (n % 2 == 0) {
                            store.get(prefix + "before");
                        } else {
                            store.put(prefix + "c" + n, b("x"), Expect.any());
                        }
                        throw new AssertionError("a request succeeded while the database was " + state);
                    } catch (NoQuorumException e) {
                        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s);
                    }
                }));
            }
            long worst = 0;
            for (Future<Long> f : futures) {
                worst = Math.max(worst, f.get(60, TimeUnit.SECONDS));
            }
            return worst;
        } finally {
            callers.shutdownNow();
        }
    }

    /** Writes {@code key} until it is taken, for at most 30 s from {@code since}; the ms from then, or -1. */
    private long millisUntilWritesResume(String key, long since) throws InterruptedException {
        while (TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since) < 30) {
            try {
                store.put(key, b("2"), Expect.absent());
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
            } catch (NoQuorumException e) {
                Thread.sleep(100);
            }
        }
        return -1;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
