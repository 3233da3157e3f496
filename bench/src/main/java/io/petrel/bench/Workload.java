package io.petrel.bench;

/** What one client does once in a closed loop; {@code seq} counts that client's operations from 0. */
@FunctionalInterface
interface Workload {
    void once(int client, long seq) throws Exception;
}
