package io.petrel.bench;

import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.ReadConsistency;
import io.petrel.store.StoreException;
import io.petrel.store.ratis.Peer;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The store mode of {@link DrWriter}: every write is one {@code Put} of key {@code bench/dr/<name>}
 * (about 100 bytes of value) straight into the region's replicated store, through a remote
 * {@link RatisStore} client of its current cluster, the commit every API write ends in without the
 * HTTP request, authentication and validation a zone spends on it first. The store alone takes
 * 1,000 writes/s on this machine (the store benchmark), while the API mode reaches only about 50-300
 * with ten JVMs on two cores; this mode measures the standby's lag at the rate the issue asks for.
 * Read-backs are linearizable {@code get}s through the same client.
 *
 * <p>A handle is bound to one cluster: after a failback a region has a new cluster id, so the
 * benchmark connects anew (from the region's current {@code region.json}) for every phase and round.
 * Unlike a zone's own handle, a remote client does not re-check the primary's fencing lease after the
 * write is applied; the leader still checks it before ordering the write, and the benchmark kills a
 * whole region at once, so no write can be acknowledged by a primary that lost its lease.
 */
final class DrStoreWriter implements DrWriter.Endpoint {
    /** Every key the benchmark writes is under this prefix, apart from the tenant data the API mode writes. */
    static final String KEY_PREFIX = "bench/dr/";
    static final int VALUE_BYTES = 100;
    /** A dot padding: each value starts with its own name, so that a lost-writes report or a dump can be matched to the writer's sequence. */
    private static final String PAD = ".".repeat(VALUE_BYTES);
    private static final int READ_ATTEMPTS = 3;

    private final RatisStore store;
    private final String region;

    private DrStoreWriter(RatisStore store, String region) {
        this.store = requireNonNull(store, "store");
        this.region = requireNonNull(region, "region");
    }

    /**
     * A client of the region's store as {@code layout} (loaded just now) describes it: its zones' Raft
     * addresses and its current cluster id. The caller closes it.
     */
    static DrStoreWriter connect(RegionLayout layout) {
        requireNonNull(layout, "layout");
        List<Peer> peers = layout.zones().stream().map(ZoneSpec::peer).toList();
        if (peers.isEmpty() || !peers.stream().allMatch(p -> Loopback.isLoopbackHost(p.host()))) {
            throw new IllegalArgumentException("the writer only writes to loopback zones, not " + peers);
        }
        // The defaults are what `petrel up` gives its zones' own handles (with a write timeout, so that a write to a dead region fails).
        return new DrStoreWriter(RatisStore.connect(layout.region(), layout.clusterId(), peers, StoreTuning.DEFAULT), layout.region());
    }

    static String key(String name) {
        return KEY_PREFIX + name;
    }

    @Override
    public String mode() {
        return "store";
    }

    @Override
    public CompletableFuture<?> write(long seq, String name) {
        byte[] value = (name + ' ' + PAD).substring(0, VALUE_BYTES).getBytes(StandardCharsets.US_ASCII);
        // Bounded here too: a client whose region was killed retries its requests, and the writer must not wait on them without end.
        return store.commitAsync(List.of(new Op.Put(key(name), value, Expect.any(), 0)))
                .orTimeout(DrWriter.REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** {@code first} does not apply: the client's reads go through the group's leader (ReadIndex), whichever zone that is. */
    @Override
    public boolean present(String name, int first) throws IOException, InterruptedException {
        StoreException last = null;
        for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
            try {
                return store.get(key(name), ReadConsistency.LINEARIZABLE).value().isPresent();
            } catch (StoreException e) {
                // e.g. no quorum for a moment while a new leader is elected: try again, a bounded number of times.
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IOException("cannot tell whether region " + region + "'s store holds " + key(name) + ": " + last, last);
    }

    @Override
    public void close() {
        store.close();
    }
}
