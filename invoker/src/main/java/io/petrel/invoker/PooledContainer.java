package io.petrel.invoker;

import io.petrel.container.ActionContainer;

import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * The pool's book-keeping for one container, from the moment its memory is reserved until it is
 * retired. Every mutable field is guarded by the pool's lock.
 */
final class PooledContainer {
    enum State { STARTING, PREWARMED, INITIALIZING, BUSY, IDLE }

    final long serial;
    final String kind;
    final int concurrency;

    int memoryMb;
    /** The action it serves; null while it is a prewarmed container (or being started as one). */
    ActionKey key;
    /** Null until its process started. */
    ActionContainer container;
    /** Set when an action takes it; completes with the container once its first init succeeded. */
    CompletableFuture<ActionContainer> initialized;
    int inFlight;
    long lastUsedNanos;
    /** Out of the pool: its memory is returned and it takes no new activation. */
    boolean retired;

    PooledContainer(long serial, String kind, int memoryMb, int concurrency, ActionKey key, long nowNanos) {
        this.serial = serial;
        this.kind = requireNonNull(kind, "kind");
        this.memoryMb = memoryMb;
        this.concurrency = concurrency;
        this.key = key;
        this.lastUsedNanos = nowNanos;
        if (key != null) {
            this.initialized = new CompletableFuture<>();
        }
    }

    /** Takes this prewarmed container for an action. */
    void assign(ActionKey action, int memory) {
        this.key = action;
        this.memoryMb = memory;
        this.initialized = new CompletableFuture<>();
    }

    boolean initializedOk() {
        return initialized != null && initialized.isDone() && !initialized.isCompletedExceptionally();
    }

    State state() {
        if (container == null) {
            return State.STARTING;
        }
        if (key == null) {
            return State.PREWARMED;
        }
        if (!initializedOk()) {
            return State.INITIALIZING;
        }
        return inFlight > 0 ? State.BUSY : State.IDLE;
    }

    /** The container's id once it runs, for logs before that. */
    String name() {
        return container != null ? container.id() : "#" + serial;
    }
}
