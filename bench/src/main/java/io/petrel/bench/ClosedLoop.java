package io.petrel.bench;

import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * N clients, each doing one operation after another as fast as the system answers (a closed loop):
 * the throughput a given concurrency gets. Only operations that start and finish inside the measured
 * window count, so warm-up and the tail at the end do not blur the rate.
 */
final class ClosedLoop {
    /** Latencies above this are clamped: no operation is allowed to take longer anyway. */
    static final long MAX_LATENCY_MICROS = TimeUnit.SECONDS.toMicros(120);
    /** A bound on count as well as time, so that a broken clock can never make a loop endless. */
    private static final long MAX_OPS_PER_CLIENT = 50_000_000L;
    /** After a failure a client pauses, so that a system that fails fast is not hammered in a tight loop. */
    private static final long PAUSE_AFTER_ERROR_MILLIS = 10;

    private final int clients;
    private final Duration warmup;
    private final Duration measure;
    private final Duration opTimeout;
    private final CpuMeter cpu;

    ClosedLoop(int clients, Duration warmup, Duration measure, Duration opTimeout, CpuMeter cpu) {
        if (clients < 1 || clients > 1024) {
            throw new IllegalArgumentException("clients must be 1 to 1024, got " + clients);
        }
        this.clients = clients;
        this.warmup = requireNonNull(warmup, "warmup");
        this.measure = requireNonNull(measure, "measure");
        this.opTimeout = requireNonNull(opTimeout, "opTimeout");
        this.cpu = requireNonNull(cpu, "cpu");
    }

    ClosedLoopResult run(String label, Workload workload) throws InterruptedException {
        requireNonNull(workload, "workload");
        CountDownLatch go = new CountDownLatch(1);
        // The window is fixed once every thread exists, so thread start-up is not measured.
        AtomicReference<Window> window = new AtomicReference<>();
        List<Worker> workers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Worker w = new Worker(c, workload, go, window);
            workers.add(w);
            threads.add(Thread.ofPlatform().daemon().name("bench-" + label + "-" + c).unstarted(w));
        }
        threads.forEach(Thread::start);
        long from = System.nanoTime() + warmup.toNanos();
        window.set(new Window(from, from + measure.toNanos()));
        go.countDown();
        // This thread only watches the clock: it reads the CPU counters at the window's edges.
        sleepUntil(from);
        CpuMeter.Snapshot cpuAtStart = cpu.now();
        Instant startedAt = Instant.now();
        sleepUntil(window.get().to());
        CpuUse used = cpu.since(cpuAtStart);
        TimeWindow measured = new TimeWindow(startedAt, Instant.now());

        long deadline = window.get().to() + opTimeout.toNanos() + TimeUnit.SECONDS.toNanos(10);
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                t.join(Duration.ofNanos(left));
            }
        }
        Histogram all = new Histogram(MAX_LATENCY_MICROS, 3);
        long ops = 0;
        long errors = 0;
        String firstError = null;
        int stuck = 0;
        for (int i = 0; i < workers.size(); i++) {
            if (threads.get(i).isAlive()) {
                // A client still blocked past its own operation timeout: report it rather than wait.
                stuck++;
                continue;
            }
            Worker w = workers.get(i);
            all.add(w.latency);
            ops += w.ops;
            errors += w.errors;
            if (firstError == null) {
                firstError = w.firstError.get();
            }
        }
        if (stuck > 0) {
            errors += stuck;
            firstError = stuck + " client(s) still blocked after the phase" + (firstError == null ? "" : "; " + firstError);
        }
        return new ClosedLoopResult(clients, ops, errors, measure.toNanos() / 1e9, all, firstError, used, measured);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** The measured window, in System.nanoTime(). */
    private record Window(long from, long to) {
    }

    /** One client: its own histogram and counters, merged only after it has stopped. */
    private static final class Worker implements Runnable {
        private final int client;
        private final Workload workload;
        private final CountDownLatch go;
        private final AtomicReference<Window> window;
        final Histogram latency = new Histogram(MAX_LATENCY_MICROS, 3);
        final AtomicReference<String> firstError = new AtomicReference<>();
        long ops;
        long errors;

        Worker(int client, Workload workload, CountDownLatch go, AtomicReference<Window> window) {
            this.client = client;
            this.workload = workload;
            this.go = go;
            this.window = window;
        }

        @Override
        public void run() {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            long from = window.get().from();
            long to = window.get().to();
            for (long seq = 0; seq < MAX_OPS_PER_CLIENT; seq++) {
                long t0 = System.nanoTime();
                if (t0 >= to) {
                    break;
                }
                try {
                    workload.once(client, seq);
                    long t1 = System.nanoTime();
                    if (t0 >= from && t1 <= to) {
                        ops++;
                        latency.recordValue(Math.min(MAX_LATENCY_MICROS, (t1 - t0) / 1000));
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    if (t0 >= from) {
                        errors++;
                        firstError.compareAndSet(null, describe(e));
                    }
                    try {
                        Thread.sleep(PAUSE_AFTER_ERROR_MILLIS);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof java.util.concurrent.ExecutionException || t instanceof java.util.concurrent.CompletionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
