package io.petrel.invoker;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/**
 * A snapshot of a zone's container pool, for metrics and tests.
 *
 * @param starting          containers whose process is being started (cold or for the prewarm reserve)
 * @param prewarmed         started, not initialized, waiting for an action of their kind
 * @param initializing      taken by an action, its first init not done yet
 * @param busy              initialized and running at least one activation
 * @param idle              initialized, running nothing: reusable by the same action, evictable by others
 * @param activations       activations holding a container now
 * @param memoryInUseMb     memory of every container above together
 * @param memoryBudgetMb    the pool's budget
 * @param prewarmedByKind   prewarmed containers (ready ones) per kind
 * @param coldStarts        activations that started a new container
 * @param prewarmStarts     activations that took a prewarmed container
 * @param warmStarts        activations that reused a container of their action
 * @param rejected          activations refused for want of memory
 * @param evicted           idle containers closed to make room for another action
 * @param reaped            warm containers closed after the idle time
 * @param discarded         containers closed because they could not be used again (crash, timeout, failed init)
 * @param waiting           activations waiting for room now ({@code invoker.capacity.wait.ms})
 * @param waited            activations that had to wait for room, in all
 */
public record PoolStats(int starting, int prewarmed, int initializing, int busy, int idle, int activations,
                        int memoryInUseMb, int memoryBudgetMb, Map<String, Integer> prewarmedByKind, long coldStarts,
                        long prewarmStarts, long warmStarts, long rejected, long evicted, long reaped, long discarded,
                        int waiting, long waited) {
    public PoolStats {
        prewarmedByKind = Collections.unmodifiableMap(new TreeMap<>(requireNonNull(prewarmedByKind, "prewarmedByKind")));
    }

    /** Every container the pool holds, whatever its state. */
    public int containers() {
        return starting + prewarmed + initializing + busy + idle;
    }
}
