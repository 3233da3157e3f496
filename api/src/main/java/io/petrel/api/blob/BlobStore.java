package io.petrel.api.blob;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.StoredJson;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Large values (artifacts, big action code) as content-addressed chunks of at most 1 MiB, with a
 * reference count per chunk, so equal chunks are stored once and a chunk goes when nothing refers
 * to it any more.
 *
 * <p>Keys: {@code blob/c/<sha256>} a chunk, {@code blob/r/<sha256>} its reference count,
 * {@code blob/u/<id>} an upload in progress (the chunks it holds, and when it last made progress),
 * {@code blob/g/<id>} references to give back.
 *
 * <p>Every reference is always held by exactly one record: an upload record while the upload runs,
 * then the owner's manifest (the owner commits the manifest and deletes the upload record in one
 * commit), then a garbage record when the owner lets go (in the same commit that drops the
 * manifest). The collector turns uploads that stopped making progress into garbage and gives
 * garbage back in atomic steps, so neither a client that disconnects nor a zone killed mid-upload
 * leaks a chunk, and no chunk goes while an entity still refers to it.
 */
public final class BlobStore {
    private static final Logger LOG = LoggerFactory.getLogger(BlobStore.class);
    public static final int CHUNK_BYTES = 1024 * 1024;
    static final String CHUNK = "blob/c/";
    static final String REFS = "blob/r/";
    static final String UPLOAD = "blob/u/";
    static final String GARBAGE = "blob/g/";
    /** Chunks given back per commit: two ops each plus the garbage record stay under the store's 256. */
    private static final int RELEASE_BATCH = 100;

    private final Store store;
    private final ObjectMapper json;
    private final LongSupplier clock;
    private final Duration abandonAfter;

    /** {@code abandonAfter}: an upload that made no progress for this long is given up and its chunks released. */
    public BlobStore(Store store, ObjectMapper json, LongSupplier clock, Duration abandonAfter) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.clock = requireNonNull(clock, "clock");
        this.abandonAfter = requireNonNull(abandonAfter, "abandonAfter");
    }

    /** Thrown when a stream is longer than the caller allowed; nothing of it is kept. */
    public static final class TooLargeException extends RuntimeException {
        private final long limit;

        TooLargeException(long limit) {
            super("larger than " + limit + " bytes");
            this.limit = limit;
        }

        public long limit() {
            return limit;
        }
    }

    /** Thrown when an upload was given up (it stalled) before it finished. */
    public static final class AbandonedException extends RuntimeException {
        AbandonedException(String id) {
            super("upload " + id + " made no progress for too long and was given up");
        }
    }

    /** Starts an upload; its chunks are held by its record until it finishes or is given up. */
    public Upload startUpload() {
        String id = UUID.randomUUID().toString();
        long rev = store.put(UPLOAD + id, bytes(record(List.of())), Expect.absent());
        return new Upload(id, rev);
    }

    /** An upload in progress. Not thread-safe: one request writes it. */
    public final class Upload {
        private final String id;
        private final List<String> chunks = new ArrayList<>();
        private long revision;
        private boolean finished;

        private Upload(String id, long revision) {
            this.id = id;
            this.revision = revision;
        }

        /** Reads {@code in} to its end, storing it chunk by chunk; at most {@code maxBytes}. */
        public BlobManifest write(InputStream in, long maxBytes) throws IOException {
            MessageDigest whole = sha256();
            long size = 0;
            byte[] buf = new byte[CHUNK_BYTES];
            while (true) {
                int n = in.readNBytes(buf, 0, CHUNK_BYTES);
                if (n == 0) {
                    break;
                }
                size += n;
                if (size > maxBytes) {
                    throw new TooLargeException(maxBytes);
                }
                whole.update(buf, 0, n);
                addChunk(n == CHUNK_BYTES ? buf : java.util.Arrays.copyOf(buf, n));
                if (n < CHUNK_BYTES) {
                    break;
                }
            }
            return new BlobManifest(HexFormat.of().formatHex(whole.digest()), size, chunks);
        }

        private void addChunk(byte[] data) {
            String sha = HexFormat.of().formatHex(sha256().digest(data));
            while (true) {
                Optional<KeyValue> ref = store.get(REFS + sha);
                List<String> held = new ArrayList<>(chunks);
                held.add(sha);
                List<Op> ops = new ArrayList<>();
                if (ref.isPresent()) {
                    ops.add(new Op.Put(REFS + sha, count(count(ref.get()) + 1), Expect.revision(ref.get().modRevision())));
                } else {
                    ops.add(new Op.Put(CHUNK + sha, data, Expect.any()));
                    ops.add(new Op.Put(REFS + sha, count(1), Expect.absent()));
                }
                ops.add(new Op.Put(UPLOAD + id, bytes(record(held)), Expect.revision(revision)));
                try {
                    revision = store.commit(ops);
                    chunks.add(sha);
                    return;
                } catch (ConflictException e) {
                    if (store.get(UPLOAD + id).map(KeyValue::modRevision).orElse(-1L) != revision) {
                        throw new AbandonedException(id);
                    }
                    // The chunk's count moved under us (another upload or the collector): read it again.
                }
            }
        }

        /** The op that hands this upload's references to the manifest committed with it. */
        public Op finishOp() {
            finished = true;
            return new Op.Delete(UPLOAD + id, Expect.revision(revision));
        }

        /** Gives the chunks back now (the upload failed); safe to call after a failed finish too. */
        public void abort() {
            if (finished && store.get(UPLOAD + id).isEmpty()) {
                return;
            }
            try {
                store.commit(List.of(new Op.Delete(UPLOAD + id, Expect.revision(revision)),
                        new Op.Put(GARBAGE + UUID.randomUUID(), bytes(record(chunks)), Expect.absent())));
            } catch (ConflictException e) {
                // Already given up by the collector, which released the chunks itself.
            } catch (RuntimeException e) {
                LOG.info("upload {}: could not release its chunks now ({}); the collector will", id, e.getMessage());
            }
        }
    }

    /** The op that gives back a manifest's references; commit it with the change that drops the manifest. */
    public Op releaseOp(BlobManifest manifest) {
        return new Op.Put(GARBAGE + UUID.randomUUID(), bytes(record(manifest.chunks())), Expect.absent());
    }

    /** The blob's bytes, fetched chunk by chunk as they are read, each checked against its digest. */
    public InputStream open(BlobManifest manifest) {
        return new ChunkedInputStream(manifest.chunks(), this::chunk);
    }

    private byte[] chunk(String sha) {
        byte[] data = store.get(CHUNK + sha).map(KeyValue::value)
                .orElseThrow(() -> new UncheckedIOException(new IOException("blob chunk " + sha + " is missing")));
        String actual = HexFormat.of().formatHex(sha256().digest(data));
        if (!actual.equals(sha)) {
            throw new UncheckedIOException(new IOException("blob chunk " + sha + " is corrupted (its SHA-256 is " + actual + ")"));
        }
        return data;
    }

    /**
     * One pass of the collector: uploads that stalled become garbage, garbage is given back. Safe to
     * run in every zone at once: every step is a compare-and-set. Returns how many chunk references
     * were given back.
     */
    public int collect() {
        long now = clock.getAsLong();
        forEach(UPLOAD, kv -> {
            ObjectNode r = parse(kv.value());
            if (now - r.path("updated").asLong() > abandonAfter.toMillis()) {
                try {
                    store.commit(List.of(new Op.Delete(kv.key(), Expect.revision(kv.modRevision())),
                            new Op.Put(GARBAGE + UUID.randomUUID(), kv.value(), Expect.absent())));
                    LOG.info("blob upload {} made no progress for {} s; its {} chunk(s) are released", kv.key().substring(UPLOAD.length()),
                            abandonAfter.toSeconds(), r.path("chunks").size());
                } catch (ConflictException e) {
                    // It made progress, finished, or another zone gave it up first.
                }
            }
        });
        int[] released = {0};
        forEach(GARBAGE, kv -> released[0] += release(kv));
        return released[0];
    }

    /** Gives back one batch of a garbage record's references, atomically with shrinking the record. */
    private int release(KeyValue garbage) {
        KeyValue kv = garbage;
        int total = 0;
        while (true) {
            List<String> chunks = new ArrayList<>();
            parse(kv.value()).path("chunks").forEach(c -> chunks.add(c.asText()));
            int n = Math.min(RELEASE_BATCH, chunks.size());
            // The same chunk may appear twice in one batch: give back all its references in one op.
            java.util.Map<String, Integer> drop = new java.util.LinkedHashMap<>();
            chunks.subList(0, n).forEach(c -> drop.merge(c, 1, Integer::sum));
            List<Op> ops = new ArrayList<>();
            for (var e : drop.entrySet()) {
                Optional<KeyValue> ref = store.get(REFS + e.getKey());
                if (ref.isEmpty()) {
                    LOG.warn("blob chunk {} has no reference count; nothing to give back", e.getKey());
                    continue;
                }
                long left = count(ref.get()) - e.getValue();
                if (left > 0) {
                    ops.add(new Op.Put(REFS + e.getKey(), count(left), Expect.revision(ref.get().modRevision())));
                } else {
                    ops.add(new Op.Delete(REFS + e.getKey(), Expect.revision(ref.get().modRevision())));
                    ops.add(new Op.Delete(CHUNK + e.getKey(), Expect.any()));
                }
            }
            List<String> rest = chunks.subList(n, chunks.size());
            ops.add(rest.isEmpty() ? new Op.Delete(kv.key(), Expect.revision(kv.modRevision()))
                    : new Op.Put(kv.key(), bytes(record(rest)), Expect.revision(kv.modRevision())));
            try {
                store.commit(ops);
            } catch (ConflictException e) {
                return total; // another zone is collecting the same record, or a count moved: next pass
            }
            total += n;
            if (rest.isEmpty()) {
                return total;
            }
            Optional<KeyValue> next = store.get(kv.key());
            if (next.isEmpty()) {
                return total;
            }
            kv = next.get();
        }
    }

    private void forEach(String prefix, java.util.function.Consumer<KeyValue> action) {
        ScanRequest req = ScanRequest.prefix(prefix, 200);
        while (true) {
            ScanPage page = store.scan(req);
            page.items().forEach(action);
            if (!page.more()) {
                return;
            }
            req = req.next(page);
        }
    }

    private ObjectNode record(List<String> chunks) {
        ObjectNode r = json.createObjectNode();
        r.put("updated", clock.getAsLong());
        ArrayNode a = r.putArray("chunks");
        chunks.forEach(a::add);
        return r;
    }

    private static long count(KeyValue kv) {
        return Long.parseLong(new String(kv.value(), StandardCharsets.US_ASCII));
    }

    private static byte[] count(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }

    private byte[] bytes(JsonNode n) {
        return StoredJson.bytes(json, n);
    }

    private ObjectNode parse(byte[] value) {
        return StoredJson.object(json, value, "blob record");
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
