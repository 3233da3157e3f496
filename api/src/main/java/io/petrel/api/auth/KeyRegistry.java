package io.petrel.api.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The stored API keys: {@code auth/<uuid>} holds a {@link KeyRecord}. Several keys may belong to one
 * namespace; each has its own uuid.
 */
public final class KeyRegistry {
    public static final String PREFIX = "auth/";

    /** A key as handed to its owner once, at creation: the only time the secret is seen. */
    public record IssuedKey(String uuid, String key, String namespace, Role role) {
        public String auth() {
            return uuid + ":" + key;
        }
    }

    private final Store store;
    private final ObjectMapper json;
    private final LongSupplier clock;
    private final SecureRandom random;

    public KeyRegistry(Store store, ObjectMapper json, LongSupplier clock, SecureRandom random) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.clock = requireNonNull(clock, "clock");
        this.random = requireNonNull(random, "random");
    }

    /** The op that stores a new random key for {@code namespace}, and the key it stores. */
    public IssuedKey newKey(String namespace, Role role, List<Op> into) {
        String uuid = UUID.randomUUID().toString();
        String key = KeyRecord.newKey(random);
        into.add(putOp(KeyRecord.of(uuid, namespace, key, clock.getAsLong(), random, role)));
        return new IssuedKey(uuid, key, namespace, role);
    }

    /** The op that stores a given key (the well-known development keys), only if its uuid is unused. */
    public Op putGiven(String uuid, String key, String namespace) {
        return putOp(KeyRecord.of(uuid, namespace, key, clock.getAsLong(), random, Role.ADMIN));
    }

    private Op putOp(KeyRecord record) {
        try {
            return new Op.Put(PREFIX + record.uuid(), json.writeValueAsBytes(record), Expect.absent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Commits ops built by {@link #newKey}. */
    public void commit(List<Op> ops) {
        store.commit(ops);
    }

    /** Every key of {@code namespace} (uuids and creation times; hashes stay inside). */
    public List<KeyRecord> keysOf(String namespace) {
        List<KeyRecord> out = new ArrayList<>();
        for (KeyValue kv : all()) {
            KeyRecord r = parse(kv);
            if (r.namespace().equals(namespace)) {
                out.add(r);
            }
        }
        return out;
    }

    /** Revokes one key of {@code namespace}; false when there is no such key there. */
    public boolean revoke(String namespace, String uuid) {
        var kv = store.get(PREFIX + uuid.toLowerCase());
        if (kv.isEmpty() || !parse(kv.get()).namespace().equals(namespace)) {
            return false;
        }
        return store.delete(kv.get().key(), Expect.revision(kv.get().modRevision()));
    }

    /** The ops that delete every key of {@code namespace}. */
    public List<Op> deleteAllOps(String namespace) {
        List<Op> ops = new ArrayList<>();
        for (KeyValue kv : all()) {
            if (parse(kv).namespace().equals(namespace)) {
                ops.add(new Op.Delete(kv.key(), Expect.revision(kv.modRevision())));
            }
        }
        return ops;
    }

    private List<KeyValue> all() {
        List<KeyValue> out = new ArrayList<>();
        ScanRequest req = ScanRequest.prefix(PREFIX, 1000);
        while (true) {
            ScanPage page = store.scan(req);
            out.addAll(page.items());
            if (!page.more()) {
                return out;
            }
            req = req.next(page);
        }
    }

    private KeyRecord parse(KeyValue kv) {
        try {
            return json.readValue(kv.value(), KeyRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("key record " + kv.key() + " is unreadable", e);
        }
    }
}
