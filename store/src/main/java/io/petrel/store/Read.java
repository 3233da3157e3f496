package io.petrel.store;

import static java.util.Objects.requireNonNull;

/**
 * The answer to a read: the value and, for a {@link ReadConsistency#LOCAL} read, how stale it may be
 * ({@code null} for a linearizable read, which is never stale).
 */
public record Read<T>(T value, Staleness staleness) {
    public Read {
        requireNonNull(value, "value");
    }

    public boolean linearizable() {
        return staleness == null;
    }
}
