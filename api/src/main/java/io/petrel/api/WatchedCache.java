package io.petrel.api;

import io.petrel.store.KeyValue;
import io.petrel.store.Store;
import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * Values under a store prefix, held in this zone's memory and dropped as soon as this zone's replica
 * applies a change to them (a store watch): what makes the hot paths (authentication, invocation)
 * cost no store round trip. A change made through another zone is seen here once this replica
 * applied it, within milliseconds. Without a watch (a client-only store), nothing is cached.
 * Absent keys are cached only when asked ({@code cacheAbsent}: for keys named by authenticated
 * identities, never by a request's path, so that random names cannot fill the memory).
 */
public final class WatchedCache<V> implements AutoCloseable {
    /** Past this many values the cache starts over: a bound on memory, not an eviction policy. */
    private static final int MAX_ENTRIES = 20_000;

    private final Store store;
    private final Function<KeyValue, V> parse;
    private final ConcurrentHashMap<String, Optional<V>> values = new ConcurrentHashMap<>();
    private final boolean cacheAbsent;
    // Bumped by every change the watch sees, so that a load racing a change is not cached.
    private final AtomicLong changes = new AtomicLong();
    private final Watch watch;

    public WatchedCache(Store store, String prefix, Function<KeyValue, V> parse) {
        this(store, prefix, parse, false);
    }

    public WatchedCache(Store store, String prefix, Function<KeyValue, V> parse, boolean cacheAbsent) {
        this.store = requireNonNull(store, "store");
        this.cacheAbsent = cacheAbsent;
        this.parse = requireNonNull(parse, "parse");
        Watch w;
        try {
            w = store.watch(prefix, this::onChange);
        } catch (UnsupportedOperationException e) {
            w = null;
        }
        this.watch = w;
    }

    private void onChange(WatchEvent event) {
        changes.incrementAndGet();
        if (event.type() == WatchEvent.Type.RESET) {
            values.clear();
            return;
        }
        values.remove(event.kv().key());
    }

    /** Whether values are cached (the store has a watch). */
    public boolean watched() {
        return watch != null;
    }

    public Optional<V> get(String key) {
        Optional<V> cached = values.get(key);
        if (cached != null) {
            return cached;
        }
        long before = changes.get();
        Optional<V> loaded = store.get(key).map(parse);
        if (watch != null && (loaded.isPresent() || cacheAbsent) && changes.get() == before) {
            if (values.size() >= MAX_ENTRIES) {
                values.clear();
            }
            values.put(key, loaded);
        }
        return loaded;
    }

    /** Drops one key (the caller changed it and wants its own next read fresh). */
    public void forget(String key) {
        changes.incrementAndGet();
        values.remove(key);
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }
}
