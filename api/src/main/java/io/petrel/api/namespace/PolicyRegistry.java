package io.petrel.api.namespace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.ApiException;
import io.petrel.api.StoredJson;
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

    public PolicyRegistry(Store store, ObjectMapper json) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
    }

    public NamespacePolicy get(String ns) {
        return store.get(PREFIX + ns).map(kv -> NamespacePolicy.fromJson(parse(kv))).orElse(NamespacePolicy.DEFAULT);
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
