package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.Prefixes;
import io.petrel.api.StoredJson;
import io.petrel.api.blob.BlobManifest;
import io.petrel.api.blob.BlobStore;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
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

    /**
     * Action code above this many bytes is kept as a blob, so that a document stays far below the
     * store's value limit whatever its parameters (code may be 48 MB).
     */
    static final int INLINE_CODE_BYTES = 512 * 1024;

    private final Store store;
    private final ObjectMapper json;
    private final BlobStore blobs;

    /** A document with the revision it was read at. */
    public record Stored(ObjectNode doc, long revision) {
    }

    /** A document as it goes into the store, and the upload that holds its code's chunks, if any. */
    private record Prepared(ObjectNode stored, Optional<BlobStore.Upload> upload) {
        List<Op> finishOps() {
            return upload.map(u -> List.of(u.finishOp())).orElse(List.of());
        }

        void abort() {
            upload.ifPresent(BlobStore.Upload::abort);
        }
    }

    public EntityStore(Store store, ObjectMapper json, BlobStore blobs) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.blobs = requireNonNull(blobs, "blobs");
    }

    /** Moves large action code out of the document into a blob; the caller's document keeps its code. */
    private Prepared prepare(Collection c, ObjectNode doc) {
        JsonNode code = doc.path("exec").path("code");
        if (c != Collection.ACTIONS || !code.isTextual()) {
            return new Prepared(doc, Optional.empty());
        }
        byte[] bytes = code.asText().getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= INLINE_CODE_BYTES) {
            return new Prepared(doc, Optional.empty());
        }
        BlobStore.Upload upload = blobs.startUpload();
        BlobManifest manifest;
        try {
            manifest = upload.write(new ByteArrayInputStream(bytes), Long.MAX_VALUE);
        } catch (IOException | RuntimeException e) {
            upload.abort();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        ObjectNode stored = doc.deepCopy();
        ObjectNode exec = (ObjectNode) stored.get("exec");
        exec.remove("code");
        exec.set("codeBlob", manifest.toJson());
        return new Prepared(stored, Optional.of(upload));
    }

    private static Optional<BlobManifest> codeBlob(ObjectNode doc) {
        JsonNode blob = doc.path("exec").path("codeBlob");
        return blob.isObject() ? Optional.of(BlobManifest.fromJson(blob)) : Optional.empty();
    }

    /** The document with its action code in {@code exec.code}, read back from its blob if it is kept as one. */
    public ObjectNode withCode(ObjectNode doc) {
        Optional<BlobManifest> blob = codeBlob(doc);
        if (blob.isEmpty()) {
            return doc;
        }
        ObjectNode out = doc.deepCopy();
        ObjectNode exec = (ObjectNode) out.get("exec");
        try (InputStream in = blobs.open(blob.get())) {
            exec.put("code", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("code of action " + doc.path("name").asText() + " cannot be read", e);
        }
        exec.remove("codeBlob");
        return out;
    }

    /** The document without its code (a {@code ?code=false} read). */
    public static ObjectNode withoutCode(ObjectNode doc) {
        ObjectNode out = doc.deepCopy();
        if (out.path("exec").isObject()) {
            ((ObjectNode) out.get("exec")).remove("code");
            ((ObjectNode) out.get("exec")).remove("codeBlob");
        }
        return out;
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
        Prepared p = prepare(c, doc);
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Put(claimKey(ns, name), c.path().getBytes(StandardCharsets.UTF_8), Expect.absent()));
        ops.add(new Op.Put(key(ns, c, name), bytes(p.stored()), Expect.absent()));
        ops.addAll(p.finishOps());
        ops.addAll(more);
        boolean committed = false;
        try {
            long revision = store.commit(ops);
            committed = true;
            return revision;
        } catch (ConflictException e) {
            Optional<Collection> holder = holderOf(ns, name);
            if (holder.isPresent() && holder.get() != c) {
                throw ApiException.conflict(ApiException.OTHER_COLLECTION);
            }
            if (holder.isPresent()) {
                throw ApiException.conflict(ApiException.ALREADY_EXISTS);
            }
            throw ApiException.conflict(ApiException.CONCURRENT);
        } finally {
            if (!committed) {
                p.abort();
            }
        }
    }

    /** Replaces a document read at {@code revision}; 409 if it changed since. */
    public long update(String ns, Collection c, String name, ObjectNode doc, long revision, List<Op> more) {
        if (c == Collection.ACTIONS) {
            Optional<KeyValue> old = store.get(key(ns, c, name));
            if (old.isEmpty() || old.get().modRevision() != revision) {
                throw ApiException.conflict(ApiException.CONCURRENT);
            }
            return update(ns, c, name, doc, parse(old.get()), more);
        }
        return replace(ns, c, name, doc, revision, Optional.empty(), more);
    }

    /** Replaces {@code old} (as read) with {@code doc}; 409 if it changed since. */
    public long update(String ns, Collection c, String name, ObjectNode doc, Stored old, List<Op> more) {
        Optional<BlobManifest> oldBlob = c == Collection.ACTIONS ? codeBlob(old.doc()) : Optional.empty();
        return replace(ns, c, name, doc, old.revision(), oldBlob, more);
    }

    private long replace(String ns, Collection c, String name, ObjectNode doc, long revision, Optional<BlobManifest> oldBlob,
                         List<Op> more) {
        Prepared p = prepare(c, doc);
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Put(key(ns, c, name), bytes(p.stored()), Expect.revision(revision)));
        ops.addAll(p.finishOps());
        // The old code's blob goes unless the document still refers to it through the same reference (an
        // update that left exec alone). Code sent again, even the same, brought its own reference: the old one goes.
        if (oldBlob.isPresent() && (p.upload().isPresent() || !oldBlob.equals(codeBlob(p.stored())))) {
            ops.add(blobs.releaseOp(oldBlob.get()));
        }
        ops.addAll(more);
        boolean committed = false;
        try {
            long newRevision = store.commit(ops);
            committed = true;
            return newRevision;
        } catch (ConflictException e) {
            throw ApiException.conflict(ApiException.CONCURRENT);
        } finally {
            if (!committed) {
                p.abort();
            }
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
        List<Op> ops = new ArrayList<>(List.of(new Op.Delete(key(ns, c, name), Expect.revision(revision)),
                new Op.Delete(claimKey(ns, name), Expect.any())));
        if (c == Collection.ACTIONS) {
            store.get(key(ns, c, name)).filter(kv -> kv.modRevision() == revision)
                    .flatMap(kv -> codeBlob(parse(kv).doc())).ifPresent(b -> ops.add(blobs.releaseOp(b)));
        }
        return ops;
    }

    /** The op that rewrites another entity (a trigger whose rules changed) at the revision read. */
    public Op putOp(String ns, Collection c, String name, ObjectNode doc, long revision) {
        return new Op.Put(key(ns, c, name), bytes(doc), Expect.revision(revision));
    }

    /** Deletes every entity and claim of a namespace, a page at a time. */
    public void deleteNamespace(String ns) {
        releaseCodeBlobs(ENTITY_PREFIX + ns + "/" + Collection.ACTIONS.path() + "/");
        deletePrefix(ENTITY_PREFIX + ns + "/");
        deletePrefix(CLAIM_PREFIX + ns + "/");
    }

    /** Deletes the actions under {@code prefix} that keep their code as a blob, giving the blob back. */
    private void releaseCodeBlobs(String prefix) {
        ScanRequest req = ScanRequest.prefix(prefix, 100);
        while (true) {
            ScanPage page = store.scan(req);
            for (KeyValue kv : page.items()) {
                codeBlob(parse(kv).doc()).ifPresent(b -> {
                    try {
                        store.commit(List.of(new Op.Delete(kv.key(), Expect.revision(kv.modRevision())), blobs.releaseOp(b)));
                    } catch (ConflictException e) {
                        // Changed meanwhile; the namespace deletion's next pass or the action's own delete handles it.
                    }
                });
            }
            if (!page.more()) {
                return;
            }
            req = req.next(page);
        }
    }

    void deletePrefix(String prefix) {
        Prefixes.deleteAll(store, prefix);
    }

    byte[] bytes(ObjectNode doc) {
        return StoredJson.bytes(json, doc);
    }

    Stored parse(KeyValue kv) {
        try {
            return new Stored((ObjectNode) json.readTree(kv.value()), kv.modRevision());
        } catch (IOException | ClassCastException e) {
            throw new IllegalStateException("entity " + kv.key() + " is unreadable: " + e.getMessage(), e);
        }
    }
}
