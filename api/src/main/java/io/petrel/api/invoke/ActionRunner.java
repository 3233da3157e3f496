package io.petrel.api.invoke;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What runs one activation of an action: the invoker. The API decides what to run (parameters,
 * limits, sequences, rules, web actions) and records the outcome; the runner owns containers.
 */
public interface ActionRunner {
    /**
     * Starts the activation if there is room for it, or answers empty at once when there is not (the
     * caller then tries elsewhere or answers 503). The future completes when the activation ended,
     * and never exceptionally: every failure of the action or its container is a {@link RunResult}.
     */
    Optional<CompletableFuture<RunResult>> tryRun(RunRequest request);

    /**
     * Like {@link #tryRun}, but when there is no room now, waits for some (an activation that ends, a
     * container that is closed) for as long as the runner's capacity wait allows before it answers
     * empty: a burst that finds every container busy queues for milliseconds instead of failing.
     * Blocks the calling thread.
     */
    Optional<CompletableFuture<RunResult>> tryRunWaiting(RunRequest request) throws InterruptedException;
}
