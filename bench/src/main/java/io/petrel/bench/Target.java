package io.petrel.bench;

import java.util.concurrent.CompletableFuture;

/**
 * One system under test, reduced to what the workloads need, so that both systems run exactly the
 * same driver code.
 */
interface Target extends AutoCloseable {

    /** How the tables name this system. */
    String name();

    /** Writes {@code value} under {@code key} unconditionally; the future completes once the write is committed. */
    CompletableFuture<?> putAsync(String key, byte[] value);

    /** A linearizable read of {@code key}; returns whether the key exists. Blocks until answered. */
    boolean get(String key) throws Exception;

    @Override
    void close();
}
