package io.petrel.api;

import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;

import java.util.List;

/** Whole key ranges of the store, as the parts of the API use them when a namespace goes. */
public final class Prefixes {
    private static final int PAGE = 200;

    private Prefixes() {
    }

    /** Deletes every key under {@code prefix}, a page per commit (a commit holds at most 256 ops). */
    public static void deleteAll(Store store, String prefix) {
        while (true) {
            ScanPage page = store.scan(ScanRequest.prefix(prefix, PAGE));
            if (page.items().isEmpty()) {
                return;
            }
            List<Op> ops = page.items().stream().<Op>map(kv -> new Op.Delete(kv.key(), Expect.any())).toList();
            store.commit(ops);
        }
    }
}
