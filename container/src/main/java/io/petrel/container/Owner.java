package io.petrel.container;

import java.time.Duration;
import java.time.Instant;

/**
 * Tells whether the JVM that created a cgroup, a work directory or a uid claim still runs: the name of each
 * carries the creator's pid, and a live process with that pid that started after the thing was created is a
 * different process that reused the pid.
 */
final class Owner {
    // A process's start time is derived from the boot time, which the kernel gives in whole seconds.
    private static final Duration START_TIME_SLACK = Duration.ofSeconds(2);

    private Owner() {}

    static long currentPid() {
        return ProcessHandle.current().pid();
    }

    static long currentStartMillis() {
        return startMillis(ProcessHandle.current());
    }

    static boolean alive(long pid, Instant createdAt) {
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .map(handle -> handle.info().startInstant()
                        .map(started -> !started.isAfter(createdAt.plus(START_TIME_SLACK)))
                        .orElse(true))
                .orElse(false);
    }

    static boolean alive(long pid, long startMillis) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(h -> startMillis(h) == startMillis).orElse(false);
    }

    private static long startMillis(ProcessHandle handle) {
        return handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }
}
