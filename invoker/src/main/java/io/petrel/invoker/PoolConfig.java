package io.petrel.invoker;

import io.petrel.runtimes.RuntimeCatalog;
import io.petrel.runtimes.RuntimeKind;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * How a zone's container pool is sized.
 *
 * @param memoryMb         memory of all the zone's containers together (each counts its own limit)
 * @param prewarm          containers to keep started and not yet initialized, per kind of the catalog
 * @param prewarmMemoryMb  memory of a prewarmed container until an action takes it
 * @param idleTimeout      a warm container unused for longer is closed
 * @param maxColdStarts    container starts (process start plus first init) in flight at once; more wait
 * @param capacityWait     how long an activation that finds the region without room waits in its zone for
 *                         some (an activation ending, a container closed) before it is refused with 503
 * @param maxWaiting       activations waiting for room at once in this zone; more are refused at once
 */
public record PoolConfig(int memoryMb, Map<String, Integer> prewarm, int prewarmMemoryMb, Duration idleTimeout,
                         int maxColdStarts, Duration capacityWait, int maxWaiting) {
    public static final String MEMORY_KEY = "invoker.memory.mb";
    public static final String PREWARM_KEY = "invoker.prewarm";
    public static final String PREWARM_MEMORY_KEY = "invoker.prewarm.memory.mb";
    public static final String IDLE_KEY = "invoker.idle.seconds";
    public static final String COLD_STARTS_KEY = "invoker.cold.starts";
    public static final String CAPACITY_WAIT_KEY = "invoker.capacity.wait.ms";
    public static final String MAX_WAITING_KEY = "invoker.capacity.waiting";

    public static final int DEFAULT_MEMORY_MB = 2048;
    public static final int DEFAULT_PREWARM_MEMORY_MB = 256;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    /** The machines Petrel targets have two cores; starting interpreters is what keeps them busy. */
    public static final int DEFAULT_MAX_COLD_STARTS = 2;
    /** Kind names as the catalog resolves them; a default kind the machine lacks is left out. */
    public static final String DEFAULT_PREWARM = "nodejs:default=1,python:default=1,java:default=0";
    /**
     * A burst that finds every container busy waits for one rather than failing: actions run for
     * milliseconds, so a slot is usually free long before this; a region that stays full answers 503.
     */
    public static final Duration DEFAULT_CAPACITY_WAIT = Duration.ofSeconds(10);
    public static final int DEFAULT_MAX_WAITING = 1000;

    /** OpenWhisk's smallest action memory: a budget below it could never run anything. */
    static final int MIN_MEMORY_MB = 128;
    private static final int MAX_COLD_STARTS = 64;

    public PoolConfig {
        if (memoryMb < MIN_MEMORY_MB) {
            throw new IllegalArgumentException("the pool's memory must be at least " + MIN_MEMORY_MB + " MB, got " + memoryMb);
        }
        TreeMap<String, Integer> counts = new TreeMap<>();
        long prewarmTotal = 0;
        for (Map.Entry<String, Integer> e : requireNonNull(prewarm, "prewarm").entrySet()) {
            if (e.getKey().isBlank() || e.getValue() == null || e.getValue() < 0) {
                throw new IllegalArgumentException("invalid prewarm count " + e.getKey() + "=" + e.getValue());
            }
            if (e.getValue() > 0) {
                counts.put(e.getKey(), e.getValue());
                prewarmTotal += e.getValue();
            }
        }
        prewarm = Collections.unmodifiableMap(counts);
        if (prewarmMemoryMb < MIN_MEMORY_MB || prewarmMemoryMb > memoryMb) {
            throw new IllegalArgumentException("a prewarmed container's memory must be " + MIN_MEMORY_MB + " to "
                    + memoryMb + " MB, got " + prewarmMemoryMb);
        }
        // Prewarmed containers that cannot all fit would just be started and evicted in turn.
        if (prewarmTotal * prewarmMemoryMb > memoryMb) {
            throw new IllegalArgumentException("prewarming " + prewarm + " needs " + prewarmTotal * prewarmMemoryMb
                    + " MB, more than the pool's " + memoryMb + " MB");
        }
        requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("the idle timeout must be positive, got " + idleTimeout);
        }
        if (maxColdStarts < 1 || maxColdStarts > MAX_COLD_STARTS) {
            throw new IllegalArgumentException("cold starts in flight must be 1 to " + MAX_COLD_STARTS + ", got " + maxColdStarts);
        }
        requireNonNull(capacityWait, "capacityWait");
        if (capacityWait.isNegative()) {
            throw new IllegalArgumentException("the capacity wait must not be negative, got " + capacityWait);
        }
        if (maxWaiting < 0) {
            throw new IllegalArgumentException("the activations waiting for room must not be negative, got " + maxWaiting);
        }
    }

    /** With the default capacity wait and waiting bound. */
    public PoolConfig(int memoryMb, Map<String, Integer> prewarm, int prewarmMemoryMb, Duration idleTimeout, int maxColdStarts) {
        this(memoryMb, prewarm, prewarmMemoryMb, idleTimeout, maxColdStarts, DEFAULT_CAPACITY_WAIT, DEFAULT_MAX_WAITING);
    }

    /** Reads the {@code invoker.*} keys, resolving prewarm kinds through the machine's catalog. */
    public static PoolConfig parse(Properties properties, RuntimeCatalog catalog) {
        requireNonNull(catalog, "catalog");
        return parse(properties, name -> catalog.resolve(name).map(RuntimeKind::kind));
    }

    /** The defaults, with the default prewarm kinds resolved by {@code resolveKind}. */
    public static PoolConfig defaults(Function<String, Optional<String>> resolveKind) {
        return parse(new Properties(), resolveKind);
    }

    /**
     * Reads the {@code invoker.*} keys; a missing key takes its default.
     *
     * @param resolveKind  a kind name or alias ({@code nodejs:default}) to the catalog's kind, empty when this machine lacks it
     * @throws IllegalArgumentException naming the key, when a value is not valid
     */
    public static PoolConfig parse(Properties properties, Function<String, Optional<String>> resolveKind) {
        requireNonNull(properties, "properties");
        requireNonNull(resolveKind, "resolveKind");
        int memory = intValue(properties, MEMORY_KEY, DEFAULT_MEMORY_MB, MIN_MEMORY_MB, Integer.MAX_VALUE);
        String prewarmText = properties.getProperty(PREWARM_KEY);
        Map<String, Integer> prewarm = prewarmText == null
                ? prewarmCounts(DEFAULT_PREWARM, resolveKind, false)
                : prewarmCounts(prewarmText, resolveKind, true);
        int prewarmMemory = intValue(properties, PREWARM_MEMORY_KEY, DEFAULT_PREWARM_MEMORY_MB, MIN_MEMORY_MB, memory);
        int idleSeconds = intValue(properties, IDLE_KEY, (int) DEFAULT_IDLE_TIMEOUT.toSeconds(), 1, Integer.MAX_VALUE);
        int coldStarts = intValue(properties, COLD_STARTS_KEY, DEFAULT_MAX_COLD_STARTS, 1, MAX_COLD_STARTS);
        int waitMs = intValue(properties, CAPACITY_WAIT_KEY, (int) DEFAULT_CAPACITY_WAIT.toMillis(), 0, 300_000);
        int waiting = intValue(properties, MAX_WAITING_KEY, DEFAULT_MAX_WAITING, 0, 1_000_000);
        try {
            return new PoolConfig(memory, prewarm, prewarmMemory, Duration.ofSeconds(idleSeconds), coldStarts, Duration.ofMillis(waitMs),
                    waiting);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invoker pool: " + e.getMessage(), e);
        }
    }

    private static Map<String, Integer> prewarmCounts(String text, Function<String, Optional<String>> resolveKind,
                                                      boolean strict) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String item : text.split(",")) {
            String entry = item.strip();
            if (entry.isEmpty()) {
                continue;
            }
            int eq = entry.lastIndexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(PREWARM_KEY + " must be kind=count items separated by commas"
                        + " (nodejs:20=1,python:3.11=1), got '" + entry + "'");
            }
            String name = entry.substring(0, eq).strip();
            int count = parseInt(PREWARM_KEY + " count of " + name, entry.substring(eq + 1).strip(), 0, 64);
            Optional<String> kind = resolveKind.apply(name);
            if (kind.isEmpty()) {
                if (strict) {
                    throw new IllegalArgumentException(PREWARM_KEY + ": this machine cannot run kind '" + name + "'");
                }
                continue;
            }
            if (counts.putIfAbsent(kind.get(), count) != null) {
                throw new IllegalArgumentException(PREWARM_KEY + ": kind " + kind.get() + " is given more than once");
            }
        }
        return counts;
    }

    private static int intValue(Properties properties, String key, int defaultValue, int min, int max) {
        String text = properties.getProperty(key);
        return text == null ? defaultValue : parseInt(key, text.strip(), min, max);
    }

    private static int parseInt(String what, String text, int min, int max) {
        int value;
        try {
            value = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a whole number, got '" + text + "'");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be " + (max == Integer.MAX_VALUE ? "at least " + min
                    : min + " to " + max) + ", got " + value);
        }
        return value;
    }
}
