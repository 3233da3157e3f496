package io.petrel.store;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * A real store seen through a test's eyes: every call goes to it, and a test overrides the calls it
 * wants to count or slow down. Closing it leaves the real store open: that belongs to the test.
 */
public abstract class ForwardingStore implements Store {
    private final Store real;

    protected ForwardingStore(Store real) {
        this.real = requireNonNull(real, "real");
    }

    @Override
    public Read<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
        return real.get(key, consistency);
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        return real.scan(request);
    }

    @Override
    public boolean delete(String key, Expect expect) {
        return real.delete(key, expect);
    }

    @Override
    public long commit(List<Op> ops) {
        return real.commit(ops);
    }

    @Override
    public Lease grantLease(Duration ttl) {
        return real.grantLease(ttl);
    }

    @Override
    public Lease keepAlive(long leaseId) {
        return real.keepAlive(leaseId);
    }

    @Override
    public boolean revokeLease(long leaseId) {
        return real.revokeLease(leaseId);
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        return real.watch(prefix, listener);
    }

    @Override
    public long revision() {
        return real.revision();
    }

    @Override
    public void close() {
        // the real store belongs to the test
    }
}
