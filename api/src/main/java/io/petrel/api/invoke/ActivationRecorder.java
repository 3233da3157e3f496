package io.petrel.api.invoke;

import io.petrel.api.activation.ActivationStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Writes finished activations in batches on a thread of its own, so that a blocking invocation's
 * answer never waits for its record: a burst of completions costs one commit per batch, not one per
 * activation. A store that refuses a batch is retried until it takes it or the recorder closes.
 */
public final class ActivationRecorder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ActivationRecorder.class);
    private static final int BATCH = 64;

    private final String zone;
    private final ActivationStore activations;
    private final BlockingQueue<ActivationStore.Finished> queue = new ArrayBlockingQueue<>(20_000);
    private final Thread writer;
    private volatile boolean closed;
    private volatile long written;
    private volatile long inFlight;

    public ActivationRecorder(String zone, ActivationStore activations) {
        this.zone = requireNonNull(zone, "zone");
        this.activations = requireNonNull(activations, "activations");
        this.writer = Thread.ofPlatform().daemon().name("activation-recorder-" + zone).start(this::loop);
    }

    /** Queues a record; waits only when 20,000 records are already waiting (the store is down). */
    public void submit(ActivationStore.Finished finished) {
        requireNonNull(finished, "finished");
        try {
            queue.put(finished);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until everything submitted before the call is written, or the timeout passed; true when it was. */
    public boolean flush(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!queue.isEmpty() || inFlight > 0) {
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
                    queue.drainTo(batch, BATCH - 1);
                    inFlight = batch.size();
                }
                activations.recordAll(batch);
                written += batch.size();
                batch.clear();
                inFlight = 0;
                backoff = 50;
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    LOG.warn("zone {}: {} activation records were not written before the zone stopped: {}", zone, batch.size(), e.toString());
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
