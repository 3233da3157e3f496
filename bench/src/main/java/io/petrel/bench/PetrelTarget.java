package io.petrel.bench;

import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.ratis.Peer;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * A Petrel region driven from outside its zones, as any remote client would: one {@link RatisStore}
 * handle shared by every client thread, so that concurrent writes meet in its group committer.
 */
final class PetrelTarget implements Target {
    private final RatisStore store;
    private final String description;

    private PetrelTarget(RatisStore store, String description) {
        this.store = requireNonNull(store, "store");
        this.description = requireNonNull(description, "description");
    }

    /** Connects to the local region whose layout {@code ./petrel up --data regionDir} wrote. */
    static PetrelTarget connect(Path regionDir) throws IOException {
        RegionLayout layout = RegionLayout.load(regionDir);
        List<Peer> peers = layout.zones().stream().map(ZoneSpec::peer).toList();
        for (Peer p : peers) {
            if (!Loopback.isLoopbackHost(p.host())) {
                throw new IllegalArgumentException("zone " + p + " is not on a loopback address; the benchmark only drives local systems");
            }
        }
        // The defaults are what `petrel up` gives its zones too (fsync on, 5 s write timeout).
        RatisStore store = RatisStore.connect(layout.region(), layout.clusterId(), peers, StoreTuning.DEFAULT);
        return new PetrelTarget(store, "region '" + layout.region() + "' at " + peers);
    }

    @Override
    public String name() {
        return "Petrel";
    }

    String description() {
        return description;
    }

    @Override
    public CompletableFuture<?> putAsync(String key, byte[] value) {
        return store.commitAsync(List.of(new Op.Put(key, value, Expect.any())));
    }

    @Override
    public boolean get(String key) {
        return store.get(key).isPresent();
    }

    @Override
    public void close() {
        store.close();
    }
}
