package io.petrel.api.artifact;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
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

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Artifacts (model and training data) of a namespace: metadata under {@code art/<ns>/<name>} with
 * the blob manifest of the bytes, and the namespace's usage under {@code artusage/<ns>}, changed in
 * the same commit as the metadata so that the quota is exact.
 */
public final class ArtifactStore {
    static final String META = "art/";
    static final String USAGE = "artusage/";
    private static final int COMMIT_ATTEMPTS = 8;

    private final Store store;
    private final BlobStore blobs;
    private final ObjectMapper json;
    private final LongSupplier clock;

    public ArtifactStore(Store store, BlobStore blobs, ObjectMapper json, LongSupplier clock) {
        this.store = requireNonNull(store, "store");
        this.blobs = requireNonNull(blobs, "blobs");
        this.json = requireNonNull(json, "json");
        this.clock = requireNonNull(clock, "clock");
    }

    /** An artifact's metadata, and the revision it was read at. */
    public record Artifact(ObjectNode meta, BlobManifest blob, long revision) {
        public ObjectNode view() {
            ObjectNode v = meta.deepCopy();
            v.remove("blob");
            return v;
        }

        public long size() {
            return blob.size();
        }
    }

    public Optional<Artifact> get(String ns, String name) {
        return store.get(META + ns + "/" + name).map(this::artifact);
    }

    public InputStream open(Artifact a) {
        return blobs.open(a.blob());
    }

    /** Bytes stored by the namespace's artifacts. */
    public long usage(String ns) {
        return store.get(USAGE + ns).map(ArtifactStore::number).orElse(0L);
    }

    /**
     * Stores {@code body} as artifact {@code name}, replacing an existing one only with
     * {@code overwrite}; refused with 413, nothing kept, if the namespace would exceed {@code quota}.
     * {@code extraOps} (the retry record) go into the same commit as the metadata.
     */
    public Artifact put(String ns, String name, String contentType, InputStream body, long declaredLength, boolean overwrite,
                        long quota, Function<ObjectNode, List<Op>> extraOps) throws IOException {
        Optional<Artifact> existing = get(ns, name);
        if (existing.isPresent() && !overwrite) {
            throw ApiException.conflict(ApiException.ALREADY_EXISTS);
        }
        long usage = usage(ns);
        long room = quota - usage + existing.map(Artifact::size).orElse(0L);
        if (declaredLength > room) {
            throw quotaExceeded(ns, declaredLength, usage, quota);
        }
        BlobStore.Upload upload = blobs.startUpload();
        boolean done = false;
        try {
            BlobManifest blob;
            try {
                blob = upload.write(body, Math.max(0, room));
            } catch (BlobStore.TooLargeException e) {
                throw quotaExceeded(ns, -1, usage, quota);
            }
            for (int attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
                Optional<KeyValue> old = store.get(META + ns + "/" + name);
                if (old.isPresent() && !overwrite) {
                    throw ApiException.conflict(ApiException.ALREADY_EXISTS);
                }
                Optional<KeyValue> usageKv = store.get(USAGE + ns);
                long before = usageKv.map(ArtifactStore::number).orElse(0L);
                Optional<Artifact> replaced = old.map(this::artifact);
                long after = before - replaced.map(Artifact::size).orElse(0L) + blob.size();
                if (after > quota && blob.size() > replaced.map(Artifact::size).orElse(0L)) {
                    throw quotaExceeded(ns, blob.size(), before, quota);
                }
                ObjectNode meta = json.createObjectNode();
                meta.put("namespace", ns).put("name", name).put("size", blob.size()).put("sha256", blob.sha256())
                        .put("contentType", contentType).put("updated", clock.getAsLong());
                meta.set("blob", blob.toJson());
                List<Op> ops = new ArrayList<>();
                ops.add(new Op.Put(META + ns + "/" + name, bytes(meta),
                        old.map(kv -> Expect.revision(kv.modRevision())).orElse(Expect.absent())));
                ops.add(new Op.Put(USAGE + ns, Long.toString(after).getBytes(StandardCharsets.US_ASCII),
                        usageKv.map(kv -> Expect.revision(kv.modRevision())).orElse(Expect.absent())));
                ops.add(upload.finishOp());
                replaced.ifPresent(r -> ops.add(blobs.releaseOp(r.blob())));
                ObjectNode view = meta.deepCopy();
                view.remove("blob");
                ops.addAll(extraOps.apply(view));
                try {
                    long revision = store.commit(ops);
                    done = true;
                    return new Artifact(meta, blob, revision);
                } catch (ConflictException e) {
                    // Another writer changed the artifact or the usage: read both again and retry.
                }
            }
            throw ApiException.conflict(ApiException.CONCURRENT);
        } finally {
            if (!done) {
                upload.abort();
            }
        }
    }

    /** Deletes an artifact and gives its chunks back; the deleted metadata, or empty if there was none. */
    public Optional<Artifact> delete(String ns, String name) {
        for (int attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
            Optional<KeyValue> kv = store.get(META + ns + "/" + name);
            if (kv.isEmpty()) {
                return Optional.empty();
            }
            Artifact a = artifact(kv.get());
            Optional<KeyValue> usageKv = store.get(USAGE + ns);
            long after = Math.max(0, usageKv.map(ArtifactStore::number).orElse(0L) - a.size());
            try {
                store.commit(List.of(new Op.Delete(kv.get().key(), Expect.revision(kv.get().modRevision())),
                        new Op.Put(USAGE + ns, Long.toString(after).getBytes(StandardCharsets.US_ASCII),
                                usageKv.map(u -> Expect.revision(u.modRevision())).orElse(Expect.absent())),
                        blobs.releaseOp(a.blob())));
                return Optional.of(a);
            } catch (ConflictException e) {
                // Changed meanwhile: try again with what is there now.
            }
        }
        throw ApiException.conflict(ApiException.CONCURRENT);
    }

    /** Artifacts whose name starts with {@code prefix}, in name order. */
    public List<Artifact> list(String ns, String prefix, int skip, int limit) {
        List<Artifact> out = new ArrayList<>();
        ScanRequest req = ScanRequest.prefix(META + ns + "/" + prefix, 500);
        int skipped = 0;
        while (out.size() < limit) {
            ScanPage page = store.scan(req);
            for (KeyValue kv : page.items()) {
                if (skipped < skip) {
                    skipped++;
                } else if (out.size() < limit) {
                    out.add(artifact(kv));
                }
            }
            if (!page.more()) {
                break;
            }
            req = req.next(page);
        }
        return out;
    }

    /** Deletes every artifact of a namespace (the namespace is being deleted). */
    public void deleteNamespace(String ns) {
        while (true) {
            List<Artifact> page = list(ns, "", 0, 100);
            if (page.isEmpty()) {
                break;
            }
            for (Artifact a : page) {
                delete(ns, a.meta().path("name").asText());
            }
        }
        store.delete(USAGE + ns, Expect.any());
    }

    private static ApiException quotaExceeded(String ns, long size, long usage, long quota) {
        return new ApiException(413, "The artifact" + (size >= 0 ? " of " + size + " bytes" : "") + " would exceed namespace "
                + ns + "'s artifact quota of " + quota + " bytes (" + usage + " bytes in use).");
    }

    private Artifact artifact(KeyValue kv) {
        ObjectNode meta = StoredJson.object(json, kv.value(), "artifact record " + kv.key());
        return new Artifact(meta, BlobManifest.fromJson(meta.path("blob")), kv.modRevision());
    }

    private static long number(KeyValue kv) {
        return Long.parseLong(new String(kv.value(), StandardCharsets.US_ASCII).trim());
    }

    private byte[] bytes(ObjectNode n) {
        return StoredJson.bytes(json, n);
    }
}
