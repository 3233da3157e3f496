package io.petrel.bench;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;

import static java.util.Objects.requireNonNull;

/**
 * Writes sent on a timer at a fixed rate, whatever the system's answers (an open loop): the latency a
 * client sees at a given load. Sends never wait for earlier answers, so a slow answer shows up as
 * latency instead of as a lower offered rate.
 */
final class OpenLoop {
    private final int ratePerSecond;
    private final Duration warmup;
    private final Duration measure;
    private final int maxOutstanding;
    private final Duration drainTimeout;
    private final CpuMeter cpu;

    /**
     * @param maxOutstanding writes sent but not yet answered above which further sends are dropped
     *                       (and counted), so that a stalled system cannot make the driver's memory grow
     *                       without bound
     * @param drainTimeout   how long to wait for the last answers after the last send
     */
    OpenLoop(int ratePerSecond, Duration warmup, Duration measure, int maxOutstanding, Duration drainTimeout, CpuMeter cpu) {
        if (ratePerSecond < 1 || ratePerSecond > 1_000_000) {
            throw new IllegalArgumentException("rate must be 1 to 1,000,000 per second, got " + ratePerSecond);
        }
        if (maxOutstanding < 1) {
            throw new IllegalArgumentException("maxOutstanding must be positive");
        }
        this.ratePerSecond = ratePerSecond;
        this.warmup = requireNonNull(warmup, "warmup");
        this.measure = requireNonNull(measure, "measure");
        this.maxOutstanding = maxOutstanding;
        this.drainTimeout = requireNonNull(drainTimeout, "drainTimeout");
        this.cpu = requireNonNull(cpu, "cpu");
    }

    OpenLoopResult run(Target target, LongFunction<String> keys, byte[] value) throws InterruptedException {
        requireNonNull(target, "target");
        requireNonNull(keys, "keys");
        requireNonNull(value, "value");
        return run(i -> target.putAsync(keys.apply(i), value));
    }

    /**
     * Sends {@code send.apply(i)} on the timer; the warm-up's sends are numbered after the measured
     * ones (so that keys derived from the number never repeat) and never recorded.
     */
    OpenLoopResult run(LongFunction<CompletableFuture<?>> send) throws InterruptedException {
        requireNonNull(send, "send");
        long warmupCount = ratePerSecond * warmup.toMillis() / 1000;
        long measuredCount = ratePerSecond * measure.toMillis() / 1000;
        schedule(i -> send.apply(measuredCount + i), warmupCount, new Tally());
        Tally tally = new Tally();
        // CPU counts until the last answer: the work of the last sends is done after them.
        CpuMeter.Snapshot cpuAtStart = cpu.now();
        Instant startedAt = Instant.now();
        schedule(send, measuredCount, tally);
        CpuUse used = cpu.since(cpuAtStart);
        TimeWindow measured = new TimeWindow(startedAt, Instant.now());
        Histogram copy = tally.latency.copy();
        return new OpenLoopResult(ratePerSecond, measuredCount / (double) ratePerSecond, measuredCount,
                tally.completed.sum(), tally.errors.sum(), tally.dropped.sum(), tally.outstanding.get(), copy,
                tally.firstError.get(), used, measured);
    }

    /** Counters of one schedule; answers arrive on the clients' threads, hence the concurrent types. */
    private static final class Tally {
        final ConcurrentHistogram latency = new ConcurrentHistogram(ClosedLoop.MAX_LATENCY_MICROS, 3);
        final LongAdder completed = new LongAdder();
        final LongAdder errors = new LongAdder();
        final LongAdder dropped = new LongAdder();
        final AtomicInteger outstanding = new AtomicInteger();
        final AtomicReference<String> firstError = new AtomicReference<>();
    }

    /** Sends {@code count} operations, the i-th at start + i / rate, then waits (bounded) for their answers. */
    private void schedule(LongFunction<CompletableFuture<?>> send, long count, Tally tally) throws InterruptedException {
        long period = TimeUnit.SECONDS.toNanos(1) / ratePerSecond;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
        for (long i = 0; i < count; i++) {
            long due = start + i * period;
            long wait;
            // parkNanos may return early; time moves on, so this ends.
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (tally.outstanding.get() >= maxOutstanding) {
                tally.dropped.increment();
                continue;
            }
            tally.outstanding.incrementAndGet();
            CompletableFuture<?> f;
            try {
                f = send.apply(i);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((r, t) -> {
                if (t == null) {
                    long micros = (System.nanoTime() - due) / 1000;
                    tally.latency.recordValue(Math.min(ClosedLoop.MAX_LATENCY_MICROS, Math.max(0, micros)));
                    tally.completed.increment();
                } else {
                    tally.errors.increment();
                    tally.firstError.compareAndSet(null, ClosedLoop.describe(t));
                }
                tally.outstanding.decrementAndGet();
            });
        }
        long giveUp = System.nanoTime() + drainTimeout.toNanos();
        while (tally.outstanding.get() > 0 && System.nanoTime() < giveUp) {
            Thread.sleep(10);
        }
    }
}
