package io.petrel.cli.faults;

import io.petrel.store.Expect;
import io.petrel.store.Store;
import io.petrel.store.StoreException;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Clients that write unique keys continuously and remember exactly which writes were acknowledged
 * (and when), so a test can check afterwards that none of them was lost or applied twice.
 */
final class Writers implements AutoCloseable {
    private final Store store;
    private final String prefix;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    final Map<String, String> acknowledged = new ConcurrentHashMap<>();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong lastAckNanos = new AtomicLong();
    /** For every acknowledged write: when it was sent and when its acknowledgement came. */
    final List<long[]> ackTimes = new CopyOnWriteArrayList<>();
    /** Every acknowledged key with the System.nanoTime of its acknowledgement. */
    private final Map<String, Long> ackNanosByKey = new ConcurrentHashMap<>();
    volatile String lastError = "";

    Writers(Store store, String prefix, int clients) {
        this.store = store;
        this.prefix = prefix;
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().name("writer-" + c).start(() -> run(client)));
        }
    }

    private void run(int client) {
        for (long n = 0; running.get() && n < 1_000_000; n++) {
            String key = prefix + client + "/" + n;
            String value = "client " + client + " write " + n;
            long sent = System.nanoTime();
            try {
                store.put(key, value.getBytes(StandardCharsets.UTF_8), Expect.any());
                acknowledged.put(key, value);
                long now = System.nanoTime();
                lastAckNanos.set(now);
                ackTimes.add(new long[] {sent, now});
                ackNanosByKey.put(key, now);
            } catch (StoreException e) {
                failures.incrementAndGet();
                lastError = e.getMessage();
            }
        }
    }

    Map<String, Long> ackedKeys() {
        return Map.copyOf(ackNanosByKey);
    }

    /**
     * When the first write sent at or after {@code nanos} was acknowledged, or -1. Only writes sent
     * after a fault count: an answer already on its way when the fault struck proves nothing.
     */
    long firstAckOfWriteSentAfter(long nanos) {
        return ackTimes.stream().filter(t -> t[0] >= nanos).mapToLong(t -> t[1]).min().orElse(-1);
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(60_000);
        }
    }
}
