package io.petrel.api.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.ApiException;
import io.petrel.store.KeyValue;
import io.petrel.store.Store;
import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Checks HTTP Basic {@code uuid:key} credentials against the stored key records, with a cache.
 *
 * <p>The cache is what makes authentication cheap, and the store's watch is what keeps it right:
 * every zone applies every change, so a revoked or replaced key is dropped from every zone's cache
 * as soon as that zone applies the change (well within a second). Where no local replica can be
 * watched (a client-only process), cached entries live at most {@code unwatchedTtlMillis}.
 */
public final class Authenticator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);
    private static final java.util.regex.Pattern UUID = java.util.regex.Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final Store store;
    private final ObjectMapper json;
    private final LongSupplier clock;
    private final long unwatchedTtlMillis;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
    // Bumped by every change the watch sees, so that a load racing a revocation is not cached.
    private final AtomicLong changes = new AtomicLong();
    private final Watch watch;

    private record Cached(Optional<KeyRecord> record, long loadedAt) {
    }

    public Authenticator(Store store, ObjectMapper json, LongSupplier clock, long unwatchedTtlMillis) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.clock = requireNonNull(clock, "clock");
        this.unwatchedTtlMillis = unwatchedTtlMillis;
        Watch w;
        try {
            w = store.watch(KeyRegistry.PREFIX, this::onChange);
        } catch (UnsupportedOperationException e) {
            w = null;
        }
        this.watch = w;
    }

    private void onChange(WatchEvent event) {
        changes.incrementAndGet();
        if (event.type() == WatchEvent.Type.RESET) {
            cache.clear();
            return;
        }
        String uuid = event.kv().key().substring(KeyRegistry.PREFIX.length());
        if (cache.remove(uuid) != null && event.type() == WatchEvent.Type.DELETE) {
            LOG.info("key {} revoked; dropped from this zone's cache at revision {}", uuid, event.revision());
        }
    }

    /** The identity of an {@code Authorization} header value; 401 when missing or wrong. */
    public Identity authenticate(Optional<String> authorization) {
        String header = authorization.orElseThrow(() -> new ApiException(401, ApiException.NO_AUTH)).trim();
        if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
            throw new ApiException(401, ApiException.NO_AUTH);
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ApiException(401, ApiException.BAD_AUTH);
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            throw new ApiException(401, ApiException.BAD_AUTH);
        }
        String uuid = decoded.substring(0, colon);
        String key = decoded.substring(colon + 1);
        if (!UUID.matcher(uuid).matches() || key.length() != KeyRecord.KEY_LENGTH) {
            throw new ApiException(401, ApiException.BAD_AUTH);
        }
        KeyRecord record = lookup(uuid.toLowerCase()).orElseThrow(() -> new ApiException(401, ApiException.BAD_AUTH));
        if (!record.matches(key)) {
            throw new ApiException(401, ApiException.BAD_AUTH);
        }
        return new Identity(record.uuid(), record.namespace(), record.roleOrAdmin());
    }

    private Optional<KeyRecord> lookup(String uuid) {
        long now = clock.getAsLong();
        Cached c = cache.get(uuid);
        if (c != null && (watch != null || now - c.loadedAt() < unwatchedTtlMillis)) {
            return c.record();
        }
        long before = changes.get();
        Optional<KeyRecord> loaded = store.get(KeyRegistry.PREFIX + uuid).map(this::parse);
        // Only known keys are cached: caching misses would let random uuids fill the memory.
        if (loaded.isPresent() && changes.get() == before) {
            cache.put(uuid, new Cached(loaded, now));
        }
        return loaded;
    }

    private KeyRecord parse(KeyValue kv) {
        try {
            return json.readValue(kv.value(), KeyRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("key record " + kv.key() + " is unreadable", e);
        }
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }
}
