package io.petrel.node;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Lease;
import io.petrel.store.Op;
import io.petrel.store.Read;
import io.petrel.store.ReadConsistency;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import io.petrel.store.Watch;
import io.petrel.store.WatchListener;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/** The zone's store handle, timing every commit (the latency a caller waits for a write). */
final class MeteredStore implements Store {
    private final Store delegate;
    private final Timer commits;
    private final Timer reads;

    MeteredStore(Store delegate, MeterRegistry registry, String zone) {
        this.delegate = requireNonNull(delegate, "delegate");
        this.commits = Timer.builder("petrel_store_commit_latency").description("time from submitting a write to its acknowledgement")
                .tag("zone", zone).publishPercentiles(0.5, 0.99).register(registry);
        this.reads = Timer.builder("petrel_store_read_latency").description("time of a linearizable read")
                .tag("zone", zone).publishPercentiles(0.5, 0.99).register(registry);
    }

    private <T> T timed(Timer t, Supplier<T> s) {
        return t.record(s);
    }

    @Override
    public Read<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
        return timed(reads, () -> delegate.get(key, consistency));
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        return timed(reads, () -> delegate.scan(request));
    }

    @Override
    public boolean delete(String key, Expect expect) {
        return timed(commits, () -> delegate.delete(key, expect));
    }

    @Override
    public long commit(List<Op> ops) {
        return timed(commits, () -> delegate.commit(ops));
    }

    @Override
    public Lease grantLease(Duration ttl) {
        return timed(commits, () -> delegate.grantLease(ttl));
    }

    @Override
    public Lease keepAlive(long leaseId) {
        return timed(commits, () -> delegate.keepAlive(leaseId));
    }

    @Override
    public boolean revokeLease(long leaseId) {
        return timed(commits, () -> delegate.revokeLease(leaseId));
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        return delegate.watch(prefix, listener);
    }

    @Override
    public long revision() {
        return timed(reads, delegate::revision);
    }

    @Override
    public void close() {
        // The replica owns the underlying handle.
    }
}
