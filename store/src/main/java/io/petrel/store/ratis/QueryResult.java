package io.petrel.store.ratis;

import io.petrel.store.KeyValue;
import io.petrel.store.Staleness;

import java.util.List;

/** The answer to a {@link Query}, with the serving replica's staleness. */
record QueryResult(List<KeyValue> items, boolean more, long revision, String digest, Staleness staleness, String error, RegionState region) {
    QueryResult {
        items = items == null ? List.of() : List.copyOf(items);
    }

    QueryResult(List<KeyValue> items, boolean more, long revision, String digest, Staleness staleness) {
        this(items, more, revision, digest, staleness, null, null);
    }

    static QueryResult failed(String error) {
        return new QueryResult(List.of(), false, 0, null, null, error, null);
    }
}
