package io.petrel.invoker;

/** How the pool found a container for an activation. */
public enum StartKind {
    /** A new container started for this activation; it needs init. */
    COLD,
    /** A container started ahead of time for the kind, now taken by this action; it needs init. */
    PREWARM,
    /** A container already initialized (or being initialized) with the same action; no init. */
    WARM;

    public boolean needsInit() {
        return this != WARM;
    }
}
