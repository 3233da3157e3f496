package io.petrel.store;

import java.util.List;

/**
 * One page of a scan, read at {@code revision}. When {@code more} is true, pass the page to
 * {@link ScanRequest#next(ScanPage)} for the rest; {@code staleness} is set for local reads.
 */
public record ScanPage(List<KeyValue> items, boolean more, String continueAfter, long revision, Staleness staleness) {
    public ScanPage {
        items = List.copyOf(items);
    }
}
