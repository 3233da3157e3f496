package io.petrel.api.transfer;

import io.petrel.store.Store;

import java.io.IOException;
import java.time.Instant;

/**
 * The region's state as it was at a past moment, rebuilt from its backups, as a read-only
 * {@link Store} (closing it discards it). What {@code ns restore} exports one namespace from.
 */
public interface PastStates {
    /** Throws an {@link IOException} saying why if no backup reaches {@code time}. */
    Store at(Instant time) throws IOException;
}
