package io.petrel.api.entity;

import io.petrel.api.WatchedCache;
import io.petrel.store.Store;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Entity documents as the invoke path reads them: from this zone's memory, kept right by a watch on
 * the entity keys ({@link WatchedCache}), so that a warm invocation costs no store round trip. A
 * change made through another zone reaches this one when its replica applies it (milliseconds), as
 * OpenWhisk's controllers see an update once their cache is invalidated. The API's entity routes
 * (GET, PUT, DELETE) never read from it.
 */
public final class EntityCache implements AutoCloseable {
    private final WatchedCache<EntityStore.Stored> cache;

    public EntityCache(Store store, EntityStore entities) {
        requireNonNull(entities, "entities");
        this.cache = new WatchedCache<>(store, EntityStore.ENTITY_PREFIX, entities::parse);
    }

    public Optional<EntityStore.Stored> get(String ns, Collection c, String name) {
        return cache.get(EntityStore.key(ns, c, name));
    }

    @Override
    public void close() {
        cache.close();
    }
}
