package io.petrel.invoker;

import io.petrel.container.ActionContainer;
import io.petrel.container.Outcome;

import java.util.concurrent.atomic.AtomicBoolean;

import static java.util.Objects.requireNonNull;

/**
 * One activation's hold on a slot of a pooled container. The pool decides the placement at once;
 * the process itself (for a cold start) is started by {@link #container()}, on the activation's own
 * thread, so that placing never waits for a process.
 *
 * <p>Use: {@link #container()}, then if {@link #needsInit()} init it and report {@link #initialized},
 * run, and always {@link #release} exactly once (a second release is ignored).
 */
public final class Lease {
    private final ContainerPool pool;
    private final PooledContainer slot;
    private final StartKind start;
    private final String activationId;
    private final String actionName;
    private final AtomicBoolean coldStartPermit = new AtomicBoolean();
    private final AtomicBoolean released = new AtomicBoolean();

    Lease(ContainerPool pool, PooledContainer slot, StartKind start, String activationId, String actionName) {
        this.pool = requireNonNull(pool, "pool");
        this.slot = requireNonNull(slot, "slot");
        this.start = requireNonNull(start, "start");
        this.activationId = requireNonNull(activationId, "activationId");
        this.actionName = requireNonNull(actionName, "actionName");
    }

    public StartKind start() {
        return start;
    }

    /** Whether this activation must init the container (cold or prewarmed start). */
    public boolean needsInit() {
        return start.needsInit();
    }

    /**
     * The container, once it can take this activation: started (cold), resized (prewarmed), or
     * initialized by the activation that got it first (warm, possibly waiting for that init).
     *
     * @throws ContainerUnavailableException when it could not be started or its init failed
     */
    public ActionContainer container() throws ContainerUnavailableException, InterruptedException {
        return pool.open(this);
    }

    /** Reports the init of a cold or prewarmed start; activations waiting for the container go on or fail with it. */
    public void initialized(Outcome init) {
        if (!needsInit()) {
            throw new IllegalStateException("a warm lease does not init its container");
        }
        pool.initialized(this, requireNonNull(init, "init"));
    }

    /**
     * Gives the slot back. With {@code reusable} false, or when the container says it is not usable,
     * the container is closed and its memory returned.
     */
    public void release(boolean reusable) {
        if (released.compareAndSet(false, true)) {
            pool.release(this, reusable);
        }
    }

    PooledContainer slot() {
        return slot;
    }

    String activationId() {
        return activationId;
    }

    String actionName() {
        return actionName;
    }

    AtomicBoolean coldStartPermit() {
        return coldStartPermit;
    }

    @Override
    public String toString() {
        return start + " lease of " + actionName + " for activation " + activationId;
    }
}
