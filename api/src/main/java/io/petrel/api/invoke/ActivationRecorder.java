package io.petrel.api.invoke;

import io.petrel.api.activation.ActivationStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * Writes finished activations in batches on a thread of its own, so that a blocking invocation's
 * answer never waits for its record: a burst of completions costs one commit per batch, not one per
 * activation. A store that refuses a batch is retried until it takes it or the recorder closes.
 *
 * <p>A batch stays open for {@code linger} after its first record. Without it, a lone caller invoking
 * in a loop made one store commit per invocation (a consensus round: three appends, three fsyncs,
 * three applies, about 7 ms of the zones' CPU), and on two cores that CPU came out of the next
 * invocation. A record is readable that much later; OpenWhisk's records are written after the
 * answer too, and readers of a record poll for it.
 */
public final class ActivationRecorder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ActivationRecorder.class);
    private static final int BATCH = 64;
    /** Long enough to gather a lone caller's invocations (about 1 ms each when warm), short next to a person reading a record. */
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(25);

    private final String zone;
    private final ActivationStore activations;
    private final long lingerNanos;
    private final BlockingQueue<ActivationStore.Finished> queue = new ArrayBlockingQueue<>(20_000);
    private final Thread writer;
    private volatile boolean closed;
    private final AtomicLong submitted = new AtomicLong();
    /** Records written, plus those given up when the zone stopped: what {@link #flush} waits for. */
    private final AtomicLong settled = new AtomicLong();
    private volatile long written;

    public ActivationRecorder(String zone, ActivationStore activations, Duration linger) {
        this.zone = requireNonNull(zone, "zone");
        this.activations = requireNonNull(activations, "activations");
        if (linger.isNegative()) {
            throw new IllegalArgumentException("linger must not be negative: " + linger);
        }
        this.lingerNanos = linger.toNanos();
        this.writer = Thread.ofPlatform().daemon().name("activation-recorder-" + zone).start(this::loop);
    }

    /** Queues a record; waits only when 20,000 records are already waiting (the store is down). */
    public void submit(ActivationStore.Finished finished) {
        requireNonNull(finished, "finished");
        try {
            queue.put(finished);
            submitted.incrementAndGet();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until everything submitted before the call is written, or the timeout passed; true when it was. */
    public boolean flush(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long target = submitted.get();
        while (settled.get() < target) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    public long written() {
        return written;
    }

    private void loop() {
        List<ActivationStore.Finished> batch = new ArrayList<>(BATCH);
        long backoff = 50;
        while (!closed || !queue.isEmpty()) {
            try {
                if (batch.isEmpty()) {
                    ActivationStore.Finished first = queue.poll(200, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    gather(batch);
                }
                activations.recordAll(batch);
                written += batch.size();
                settled.addAndGet(batch.size());
                batch.clear();
                backoff = 50;
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    LOG.warn("zone {}: {} activation records were not written before the zone stopped: {}", zone, batch.size(), e.toString());
                    settled.addAndGet(batch.size());
                    return;
                }
                LOG.warn("zone {}: writing {} activation records failed, retrying in {} ms: {}", zone, batch.size(), backoff, e.toString());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(2_000, backoff * 2);
            }
        }
    }

    /** Adds what arrives within the linger after the batch's first record, up to a full batch; a close ends the wait. */
    private void gather(List<ActivationStore.Finished> batch) throws InterruptedException {
        long until = System.nanoTime() + lingerNanos;
        queue.drainTo(batch, BATCH - batch.size());
        while (batch.size() < BATCH && !closed) {
            long left = until - System.nanoTime();
            if (left <= 0) {
                return;
            }
            ActivationStore.Finished next = queue.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(5)), TimeUnit.NANOSECONDS);
            if (next != null) {
                batch.add(next);
                queue.drainTo(batch, BATCH - batch.size());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            writer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.interrupt();
    }
}
