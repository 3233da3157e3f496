package io.petrel.store;

/** A lease: its id and its time to live; keys bound to it are deleted when it lapses. */
public record Lease(long id, long ttlMillis) {
}
