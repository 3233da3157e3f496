package io.petrel.api.namespace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.StoredJson;
import io.petrel.api.WatchedCache;
import io.petrel.api.auth.Role;
import io.petrel.api.auth.KeyRegistry;
import io.petrel.api.entity.EntityName;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Namespaces ({@code ns/<name>}: name, creation time, limit overrides) and their limits. A namespace
 * is created together with its first key, in one transaction.
 */
public final class NamespaceRegistry implements AutoCloseable {
    public static final String PREFIX = "ns/";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** OpenWhisk's system defaults for {@code GET /limits}, plus Petrel's artifact quota. */
    public static final Map<String, Long> DEFAULT_LIMITS = Map.ofEntries(
            Map.entry("invocationsPerMinute", 60L), Map.entry("concurrentInvocations", 30L), Map.entry("firesPerMinute", 60L),
            Map.entry("minActionMemory", 128L), Map.entry("maxActionMemory", 512L),
            Map.entry("minActionLogs", 0L), Map.entry("maxActionLogs", 10L),
            Map.entry("minActionTimeout", 100L), Map.entry("maxActionTimeout", 300_000L),
            Map.entry("minActionConcurrency", 1L), Map.entry("maxActionConcurrency", 500L),
            Map.entry("maxParameterSize", 1_048_576L), Map.entry("maxActionInstances", 30L),
            Map.entry("artifactQuotaBytes", 1L << 30));

    private final Store store;
    private final KeyRegistry keys;
    private final ObjectMapper json;
    private final LongSupplier clock;
    /** Namespace records as the invoke path's throttle reads them: from memory, kept by a watch. */
    private final WatchedCache<ObjectNode> cached;

    public NamespaceRegistry(Store store, KeyRegistry keys, ObjectMapper json, LongSupplier clock) {
        this.store = requireNonNull(store, "store");
        this.keys = requireNonNull(keys, "keys");
        this.json = requireNonNull(json, "json");
        this.clock = requireNonNull(clock, "clock");
        // Absent records too: the throttle asks only for authenticated identities' namespaces.
        this.cached = new WatchedCache<>(store, PREFIX, this::parse, true);
    }

    private static String key(String ns) {
        return PREFIX + ns;
    }

    private ObjectNode record(String ns) {
        return NODES.objectNode().put("name", ns).put("created", clock.getAsLong()).set("limits", NODES.objectNode());
    }

    /** Creates a namespace with one new key; 409 if it exists. */
    public KeyRegistry.IssuedKey create(String ns) {
        requireValid(ns);
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Put(key(ns), bytes(record(ns)), Expect.absent()));
        // The namespace's first key administers it; later keys get the role asked for.
        KeyRegistry.IssuedKey issued = keys.newKey(ns, Role.ADMIN, ops);
        try {
            store.commit(ops);
        } catch (ConflictException e) {
            throw ApiException.conflict("Namespace " + ns + " already exists.");
        }
        return issued;
    }

    /** Creates a namespace with a given key unless the namespace or the key exists already; returns whether it did. */
    public boolean ensure(String ns, String uuid, String secret) {
        requireValid(ns);
        try {
            store.commit(List.of(new Op.Put(key(ns), bytes(record(ns)), Expect.absent()), keys.putGiven(uuid, secret, ns)));
            return true;
        } catch (ConflictException e) {
            return false;
        }
    }

    private static void requireValid(String ns) {
        if (!EntityName.isValidNamespace(ns)) {
            throw ApiException.badRequest("The namespace name '" + ns + "' is not valid: use letters, digits, '_', '@', '.' and '-', starting with a letter, digit or '_'.");
        }
    }

    public Optional<ObjectNode> get(String ns) {
        return store.get(key(ns)).map(this::parse);
    }

    public List<ObjectNode> list() {
        List<ObjectNode> out = new ArrayList<>();
        ScanRequest req = ScanRequest.prefix(PREFIX, 1000);
        while (true) {
            ScanPage page = store.scan(req);
            for (KeyValue kv : page.items()) {
                out.add(parse(kv));
            }
            if (!page.more()) {
                return out;
            }
            req = req.next(page);
        }
    }

    /** Removes the namespace record and every key; the caller then removes its data. Returns false if absent. */
    public boolean deleteRecordAndKeys(String ns) {
        Optional<KeyValue> kv = store.get(key(ns));
        if (kv.isEmpty()) {
            return false;
        }
        List<Op> ops = new ArrayList<>(keys.deleteAllOps(ns));
        ops.add(new Op.Delete(key(ns), Expect.revision(kv.get().modRevision())));
        try {
            store.commit(ops);
        } catch (ConflictException e) {
            throw ApiException.conflict(ApiException.CONCURRENT);
        }
        return true;
    }

    /** The namespace's limits: the defaults with its overrides. */
    public ObjectNode limits(String ns) {
        return withDefaults(get(ns));
    }

    /**
     * The namespace's limits as this zone's replica last applied them (milliseconds behind a change):
     * for the invoke path, where a linearizable read per namespace every few seconds cost a quiet
     * region's first invocations several milliseconds each.
     */
    public ObjectNode cachedLimits(String ns) {
        return withDefaults(cached.get(key(ns)));
    }

    private static ObjectNode withDefaults(Optional<ObjectNode> record) {
        ObjectNode overrides = record.map(r -> r.path("limits")).filter(JsonNode::isObject).map(n -> (ObjectNode) n).orElse(NODES.objectNode());
        ObjectNode out = NODES.objectNode();
        DEFAULT_LIMITS.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.put(e.getKey(), overrides.path(e.getKey()).asLong(e.getValue())));
        return out;
    }

    /** Sets limit overrides; unknown names and negative values are refused. */
    public ObjectNode setLimits(String ns, ObjectNode requested) {
        for (Iterator<Map.Entry<String, JsonNode>> it = requested.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!DEFAULT_LIMITS.containsKey(e.getKey())) {
                throw ApiException.badRequest("Unknown limit '" + e.getKey() + "'; known limits: " + DEFAULT_LIMITS.keySet().stream().sorted().toList());
            }
            if (!e.getValue().isIntegralNumber() || e.getValue().asLong() < 0) {
                throw ApiException.badRequest("Limit '" + e.getKey() + "' must be a non-negative integer, got " + e.getValue());
            }
        }
        KeyValue kv = store.get(key(ns)).orElseThrow(ApiException::notFound);
        ObjectNode record = parse(kv);
        ObjectNode limits = record.path("limits").isObject() ? (ObjectNode) record.get("limits") : record.putObject("limits");
        limits.setAll(requested);
        try {
            store.put(kv.key(), bytes(record), Expect.revision(kv.modRevision()));
        } catch (ConflictException e) {
            throw ApiException.conflict(ApiException.CONCURRENT);
        }
        return limits(ns);
    }

    private byte[] bytes(ObjectNode n) {
        return StoredJson.bytes(json, n);
    }

    private ObjectNode parse(KeyValue kv) {
        return StoredJson.object(json, kv.value(), "namespace record " + kv.key());
    }

    @Override
    public void close() {
        cached.close();
    }
}
