package io.petrel.api;

import io.petrel.store.KeyValue;
import io.petrel.store.Store;
import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * Values under a store prefix, held in this zone's memory and kept as this zone's replica applies
 * changes to them (a store watch): what makes the hot paths (authentication, invocation) cost no
 * store round trip. A change made through another zone is seen here once this replica applied it,
 * within milliseconds.
 *
 * <p>A value the watch reports written is cached at once when it is small, so the first invocation of
 * an action made a moment ago reads it from memory too: a linearizable read on a quiet region takes
 * several milliseconds, most of a prewarmed start's time outside the action. Other values are
 * loaded on first use. Without a watch (a client-only store), nothing is cached. Absent keys are
 * cached only when asked ({@code cacheAbsent}: for keys named by authenticated identities, never by
 * a request's path, so that random names cannot fill the memory).
 */
public final class WatchedCache<V> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WatchedCache.class);
    /** Past this many values, or {@link #MAX_BYTES} of them, the cache starts over: a bound on memory, not an eviction policy. */
    private static final int MAX_ENTRIES = 20_000;
    private static final long MAX_BYTES = 64L << 20;
    /** Written values up to this size are cached as the watch reports them; larger ones wait for a read. */
    static final int CACHED_ON_WRITE_BYTES = 16 * 1024;

    /** A cached value, with the revision it was read at (so an older one never replaces it) and its stored size. */
    private record Entry<V>(Optional<V> value, long modRevision, int bytes) {
    }

    private final Store store;
    private final Function<KeyValue, V> parse;
    private final ConcurrentHashMap<String, Entry<V>> values = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();
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

    // Watch events come one at a time, in the order the replica applied them.
    private void onChange(WatchEvent event) {
        changes.incrementAndGet();
        if (event.type() == WatchEvent.Type.RESET) {
            clear();
            return;
        }
        KeyValue kv = event.kv();
        if (event.type() == WatchEvent.Type.PUT && kv.value().length <= CACHED_ON_WRITE_BYTES) {
            V parsed;
            try {
                parsed = parse.apply(kv);
            } catch (RuntimeException e) {
                LOG.debug("{} not cached: {}", kv.key(), e.toString());
                remove(kv.key());
                return;
            }
            put(kv.key(), new Entry<>(Optional.of(parsed), kv.modRevision(), kv.value().length), -1);
        } else {
            remove(kv.key());
        }
    }

    /** Whether values are cached (the store has a watch). */
    public boolean watched() {
        return watch != null;
    }

    public Optional<V> get(String key) {
        Entry<V> cached = values.get(key);
        if (cached != null) {
            return cached.value();
        }
        long before = changes.get();
        Optional<KeyValue> kv = store.get(key);
        Optional<V> loaded = kv.map(parse);
        if (watch != null && (loaded.isPresent() || cacheAbsent)) {
            put(key, new Entry<>(loaded, kv.map(KeyValue::modRevision).orElse(0L), kv.map(v -> v.value().length).orElse(0)), before);
        }
        return loaded;
    }

    /** Drops one key (the caller changed it and wants its own next read fresh). */
    public void forget(String key) {
        changes.incrementAndGet();
        remove(key);
    }

    /**
     * Caches {@code entry} unless a newer value is cached already. A value a read loaded ({@code
     * changesBefore} is the change count before the read) is cached only if no change came since: the
     * check is made inside the map's lock for the key, and the watch counts a change before it drops
     * a key, so a deletion racing the read is never undone.
     */
    private void put(String key, Entry<V> entry, long changesBefore) {
        if (values.size() >= MAX_ENTRIES || bytes.get() + entry.bytes() > MAX_BYTES) {
            clear();
        }
        values.compute(key, (k, old) -> {
            if (changesBefore >= 0 && changes.get() != changesBefore) {
                return old;
            }
            if (old != null && old.modRevision() > entry.modRevision()) {
                return old; // a read already brought a newer value than the one this event reports
            }
            bytes.addAndGet(entry.bytes() - (old == null ? 0 : old.bytes()));
            return entry;
        });
    }

    private void remove(String key) {
        Entry<V> old = values.remove(key);
        if (old != null) {
            bytes.addAndGet(-old.bytes());
        }
    }

    private void clear() {
        for (String key : values.keySet()) {
            remove(key);
        }
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }
}
