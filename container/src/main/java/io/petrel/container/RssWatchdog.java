package io.petrel.container;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.locks.LockSupport;

import static java.util.Objects.requireNonNull;

/**
 * Enforces memory limits where no cgroup can: one thread per factory reads {@code /proc} every interval and kills a
 * container whose processes together hold more resident memory than its limit. One pass over {@code /proc}
 * serves every container, so the cost does not grow with their number. A fast allocator can overshoot the limit
 * by what it allocates in one interval.
 */
final class RssWatchdog implements AutoCloseable {
    interface Watched {
        Set<Long> members(List<ProcTable.Proc> table);

        long memoryLimitBytes();

        void memoryExceeded(long rssBytes);
    }

    private final Duration interval;
    private final String zone;
    private final Set<Watched> watched = new CopyOnWriteArraySet<>();
    private volatile Thread thread;
    private volatile boolean closed;

    RssWatchdog(Duration interval, String zone) {
        this.interval = requireNonNull(interval, "interval");
        this.zone = requireNonNull(zone, "zone");
    }

    void watch(Watched container) {
        watched.add(container);
        startIfNeeded();
    }

    void unwatch(Watched container) {
        watched.remove(container);
    }

    private synchronized void startIfNeeded() {
        if (thread == null && !closed) {
            thread = Thread.ofPlatform().daemon().name("rss-watchdog-" + zone).start(this::loop);
        }
    }

    private void loop() {
        while (!closed) {
            if (!watched.isEmpty()) {
                List<ProcTable.Proc> table = ProcTable.snapshot();
                for (Watched container : watched) {
                    long rss = ProcTable.rssBytes(table, container.members(table));
                    if (rss > container.memoryLimitBytes()) {
                        container.memoryExceeded(rss);
                    }
                }
            }
            LockSupport.parkNanos(interval.toNanos());
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread running = thread;
        if (running != null) {
            LockSupport.unpark(running);
        }
    }
}
