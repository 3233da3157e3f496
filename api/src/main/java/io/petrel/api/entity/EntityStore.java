package io.petrel.api.entity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Entities in the store. Layout:
 * <ul>
 *   <li>{@code ent/<ns>/<collection>/<name>}: the entity's JSON document, as the API returns it
 *       ({@code <name>} is {@code pkg/action} for an action in a package);
 *   <li>{@code name/<ns>/<name>}: which collection holds the name, written in the same transaction
 *       as the document. Actions, packages, triggers and rules share one name space in OpenWhisk;
 *       this claim is what makes creating a trigger and an action of the same name at once safe.
 * </ul>
 * Every write expects the revision it read (or absence), so of two concurrent updates exactly one
 * wins and the other gets 409.
 */
public final class EntityStore {
    static final String ENTITY_PREFIX = "ent/";
    static final String CLAIM_PREFIX = "name/";
    /** A listing reads at most this many entities of one collection (sorting needs them all). */
    static final int MAX_LISTED = 10_000;

    private final Store store;
    private final ObjectMapper json;

    /** A document with the revision it was read at. */
    public record Stored(ObjectNode doc, long revision) {
    }

    public EntityStore(Store store, ObjectMapper json) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
    }

    public Store store() {
        return store;
    }

    static String key(String ns, Collection c, String name) {
        return ENTITY_PREFIX + ns + "/" + c.path() + "/" + name;
    }

    static String claimKey(String ns, String name) {
        return CLAIM_PREFIX + ns + "/" + name;
    }

    public Optional<Stored> get(String ns, Collection c, String name) {
        return store.get(key(ns, c, name)).map(this::parse);
    }

    /** Which collection holds {@code name}, if any. */
    public Optional<Collection> holderOf(String ns, String name) {
        return store.get(claimKey(ns, name)).map(kv -> Collection.ofPath(kv.valueAsString()));
    }

    /** Every document of a collection whose name starts with {@code namePrefix}, in name order. */
    public List<Stored> list(String ns, Collection c, String namePrefix) {
        List<Stored> out = new ArrayList<>();
        ScanRequest req = ScanRequest.prefix(key(ns, c, namePrefix), 1000);
        while (out.size() < MAX_LISTED) {
            ScanPage page = store.scan(req);
            for (KeyValue kv : page.items()) {
                out.add(parse(kv));
            }
            if (!page.more()) {
                break;
            }
            req = req.next(page);
        }
        return out;
    }

    /** Creates an entity; 409 when the name is taken in this or another collection. */
    public long create(String ns, Collection c, String name, ObjectNode doc, List<Op> more) {
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Put(claimKey(ns, name), c.path().getBytes(StandardCharsets.UTF_8), Expect.absent()));
        ops.add(new Op.Put(key(ns, c, name), bytes(doc), Expect.absent()));
        ops.addAll(more);
        try {
            return store.commit(ops);
        } catch (ConflictException e) {
            Optional<Collection> holder = holderOf(ns, name);
            if (holder.isPresent() && holder.get() != c) {
                throw ApiException.conflict(ApiException.OTHER_COLLECTION);
            }
            if (holder.isPresent()) {
                throw ApiException.conflict(ApiException.ALREADY_EXISTS);
            }
            throw ApiException.conflict(ApiException.CONCURRENT);
        }
    }

    /** Replaces a document read at {@code revision}; 409 if it changed since. */
    public long update(String ns, Collection c, String name, ObjectNode doc, long revision, List<Op> more) {
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Put(key(ns, c, name), bytes(doc), Expect.revision(revision)));
        ops.addAll(more);
        try {
            return store.commit(ops);
        } catch (ConflictException e) {
            throw ApiException.conflict(ApiException.CONCURRENT);
        }
    }

    /** Deletes a document read at {@code revision}, with its name claim; 409 if it changed since. */
    public long delete(String ns, Collection c, String name, long revision, List<Op> more) {
        List<Op> ops = new ArrayList<>(deleteOps(ns, c, name, revision));
        ops.addAll(more);
        try {
            return store.commit(ops);
        } catch (ConflictException e) {
            throw ApiException.conflict(ApiException.CONCURRENT);
        }
    }

    /** The ops that delete a document read at {@code revision} and its claim. */
    public List<Op> deleteOps(String ns, Collection c, String name, long revision) {
        return List.of(new Op.Delete(key(ns, c, name), Expect.revision(revision)),
                new Op.Delete(claimKey(ns, name), Expect.any()));
    }

    /** The op that rewrites another entity (a trigger whose rules changed) at the revision read. */
    public Op putOp(String ns, Collection c, String name, ObjectNode doc, long revision) {
        return new Op.Put(key(ns, c, name), bytes(doc), Expect.revision(revision));
    }

    /** Deletes every entity and claim of a namespace, a page at a time. */
    public void deleteNamespace(String ns) {
        deletePrefix(ENTITY_PREFIX + ns + "/");
        deletePrefix(CLAIM_PREFIX + ns + "/");
    }

    void deletePrefix(String prefix) {
        while (true) {
            ScanPage page = store.scan(ScanRequest.prefix(prefix, 200));
            if (page.items().isEmpty()) {
                return;
            }
            List<Op> ops = new ArrayList<>();
            for (KeyValue kv : page.items()) {
                ops.add(new Op.Delete(kv.key(), Expect.any()));
            }
            store.commit(ops);
        }
    }

    byte[] bytes(ObjectNode doc) {
        try {
            return json.writeValueAsBytes(doc);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Stored parse(KeyValue kv) {
        try {
            return new Stored((ObjectNode) json.readTree(kv.value()), kv.modRevision());
        } catch (IOException | ClassCastException e) {
            throw new IllegalStateException("entity " + kv.key() + " is unreadable: " + e.getMessage(), e);
        }
    }
}
