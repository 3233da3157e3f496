package io.petrel.store;

import static java.util.Objects.requireNonNull;

/**
 * A page of keys starting with {@code prefix}, after {@code startAfter} (exclusive; empty: from the
 * first), at most {@code limit} of them.
 */
public record ScanRequest(String prefix, String startAfter, int limit, ReadConsistency consistency) {

    public ScanRequest {
        requireNonNull(prefix, "prefix");
        requireNonNull(startAfter, "startAfter");
        requireNonNull(consistency, "consistency");
        if (limit <= 0) {
            throw new InvalidRequestException("scan: limit must be positive, got " + limit);
        }
    }

    public static ScanRequest prefix(String prefix, int limit) {
        return new ScanRequest(prefix, "", limit, ReadConsistency.LINEARIZABLE);
    }

    /** The request for the page after {@code page}. */
    public ScanRequest next(ScanPage page) {
        return new ScanRequest(prefix, page.continueAfter(), limit, consistency);
    }
}
