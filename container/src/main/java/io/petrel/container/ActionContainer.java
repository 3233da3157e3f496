package io.petrel.container;

import java.time.Duration;

/**
 * One running container: an OS process of a runtime launcher, in its own work directory, sandbox
 * and memory limit, speaking Petrel's action loop (see the module README). Initialized at most once,
 * then run many times; with {@code concurrency > 1}, {@link #run} may be called from several threads
 * at once. Never throws for what the action does: every failure is an {@link Outcome}.
 */
public interface ActionContainer extends AutoCloseable {
    String id();

    String kind();

    int memoryMb();

    /** Sets the memory limit of a container not yet initialized (a prewarmed one taking an action's memory). */
    void resize(int memoryMb);

    /** Initializes the container with an action; a second init is refused with a developer error. */
    Outcome init(InitMessage init, Duration timeout);

    /** Runs one activation; logs beyond {@code logLimitBytes} are cut with OpenWhisk's message. */
    Outcome run(RunMessage run, Duration timeout, long logLimitBytes);

    /** False once the process died, timed out, ran out of memory or broke the protocol: it must not be used again. */
    boolean usable();

    /** Kills the process and everything it started, and removes its work directory and cgroup. */
    @Override
    void close();
}
