package io.petrel.store;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The replicated key-value store every part of Petrel keeps its state in.
 *
 * <p>Keys are UTF-8 strings ordered by their bytes; values are opaque bytes. Every change gets a
 * revision: a store-wide number that only grows, so a reader can tell which of two versions is newer
 * and a writer can make a change conditional on the version it read ({@link Expect}). Reads are
 * linearizable unless the caller asks for {@link ReadConsistency#LOCAL}, in which case the answer
 * says how stale it may be.
 *
 * <p>Implementations must pass {@code StoreContract} (the store module's test jar); callers never
 * see the backend's own types.
 */
public interface Store extends AutoCloseable {

    /** A linearizable read of one key. */
    default Optional<KeyValue> get(String key) {
        return get(key, ReadConsistency.LINEARIZABLE).value();
    }

    Read<Optional<KeyValue>> get(String key, ReadConsistency consistency);

    /** One page of the keys that start with {@code request.prefix()}, in key order. */
    ScanPage scan(ScanRequest request);

    /**
     * Writes {@code value} under {@code key} if {@code expect} holds, and returns the new revision.
     *
     * @throws ConflictException if {@code expect} does not hold; nothing is changed
     */
    default long put(String key, byte[] value, Expect expect) {
        return commit(List.of(new Op.Put(key, value, expect, 0)));
    }

    /** Like {@link #put(String, byte[], Expect)}, with the key bound to a lease. */
    default long put(String key, byte[] value, Expect expect, long leaseId) {
        return commit(List.of(new Op.Put(key, value, expect, leaseId)));
    }

    /**
     * Deletes {@code key} if {@code expect} holds. Returns whether a value was deleted: deleting an
     * absent key with {@link Expect#any()} is not an error.
     */
    boolean delete(String key, Expect expect);

    /**
     * Applies every operation or none: all expectations are checked against the state before the
     * transaction, then all changes are made at one revision, which is returned.
     *
     * @throws ConflictException naming the first operation whose expectation failed
     */
    long commit(List<Op> ops);

    /** Grants a lease: keys put with it are deleted when it expires or is revoked. */
    Lease grantLease(Duration ttl);

    /** Renews a lease to its full time to live; returns the lease. */
    Lease keepAlive(long leaseId);

    /** Revokes a lease and deletes its keys at once. Returns whether the lease existed. */
    boolean revokeLease(long leaseId);

    /**
     * Registers a listener for every change under {@code prefix} that this process's replica applies
     * from now on, delivered in revision order on one thread.
     *
     * @throws UnsupportedOperationException if this handle has no local replica to watch
     */
    Watch watch(String prefix, WatchListener listener);

    /** The store's current revision, read linearizably. */
    long revision();

    @Override
    void close();
}
