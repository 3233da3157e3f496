package io.petrel.store.ratis;

/** Where a copy of the state stands: the last applied log entry, the store revision and the replicated clock. */
public record StatePosition(long term, long index, long revision, long clock) {
}
