package io.petrel.api.namespace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.ApiException;
import io.petrel.api.StoredJson;
import io.petrel.api.WatchedCache;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Store;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** Namespaces' security policies, under {@code policy/<ns>}; a namespace without one has the default. */
public final class PolicyRegistry {
    static final String PREFIX = "policy/";
    private final Store store;
    private final ObjectMapper json;
    private final WatchedCache<NamespacePolicy> cache;

    public PolicyRegistry(Store store, ObjectMapper json) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.cache = new WatchedCache<>(store, PREFIX, kv -> NamespacePolicy.fromJson(parse(kv)), true);
    }

    /** The policy as the store has it now (a linearizable read): for the policy's own routes. */
    public NamespacePolicy get(String ns) {
        return store.get(PREFIX + ns).map(kv -> NamespacePolicy.fromJson(parse(kv))).orElse(NamespacePolicy.DEFAULT);
    }

    /**
     * The policy as this zone last saw it: for the invoke path (may a namespace invoke, are its
     * activations kept), where a change is seen once this zone's replica applied it.
     */
    public NamespacePolicy cached(String ns) {
        return cache.get(PREFIX + ns).orElse(NamespacePolicy.DEFAULT);
    }

    /** Applies {@code changes} to the namespace's policy (compare-and-set) and returns the result. */
    public NamespacePolicy update(String ns, JsonNode changes) {
        for (int attempt = 0; attempt < 5; attempt++) {
            Optional<KeyValue> kv = store.get(PREFIX + ns);
            NamespacePolicy merged = kv.map(k -> NamespacePolicy.fromJson(parse(k))).orElse(NamespacePolicy.DEFAULT).merge(changes);
            try {
                store.put(PREFIX + ns, bytes(merged), kv.map(k -> Expect.revision(k.modRevision())).orElse(Expect.absent()));
                return merged;
            } catch (ConflictException e) {
                // Changed meanwhile: merge into the newer one.
            }
        }
        throw ApiException.conflict(ApiException.CONCURRENT);
    }

    public void delete(String ns) {
        store.delete(PREFIX + ns, Expect.any());
    }

    private byte[] bytes(NamespacePolicy p) {
        return StoredJson.bytes(json, p.toJson());
    }

    private JsonNode parse(KeyValue kv) {
        return StoredJson.tree(json, kv.value(), "policy " + kv.key());
    }
}
