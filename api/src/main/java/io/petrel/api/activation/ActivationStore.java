package io.petrel.api.activation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.Prefixes;
import io.petrel.api.StoredJson;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.LeaseNotFoundException;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import io.petrel.store.StoreLimits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Activation records in the store, kept for the retention period and then gone on every replica.
 *
 * <p>Keys, all under {@code act/<ns>/} and all bound to the retention lease of the bucket they were
 * written in:
 * <ul>
 *   <li>{@code id/<activationId>}: the record;</li>
 *   <li>{@code t/<inverted start>/<id>}: its summary, so that a prefix scan lists newest first;</li>
 *   <li>{@code n/<encoded path>/<inverted start>/<id>}: the same, per action or trigger;</li>
 *   <li>{@code log/<id>/<n>}: the log lines in chunks, only when they are too large to sit in the record.</li>
 * </ul>
 * The record and its index entries are one atomic commit; log chunks go first, so a record never
 * points at logs that are not there.
 */
public final class ActivationStore {
    private static final Logger LOG = LoggerFactory.getLogger(ActivationStore.class);
    static final String PREFIX = "act/";
    /** OpenWhisk's result limit ({@code whisk.activation.payload.max}). */
    public static final int MAX_RESULT_BYTES = 1024 * 1024;
    private static final int INLINE_LOG_BYTES = 256 * 1024;
    private static final int LOG_CHUNK_BYTES = 1024 * 1024;
    private static final int LOG_CHUNKS_PER_COMMIT = 6;
    private static final int SCAN_PAGE = 500;

    private final Store store;
    private final ObjectMapper json;
    private final RetentionLeases leases;
    private final Predicate<String> recordsActivations;

    /** {@code recordsActivations}: whether a namespace's policy wants its activations kept. */
    public ActivationStore(Store store, ObjectMapper json, Duration retention, LongSupplier clock, Predicate<String> recordsActivations) {
        this.store = requireNonNull(store, "store");
        this.recordsActivations = requireNonNull(recordsActivations, "recordsActivations");
        this.json = requireNonNull(json, "json");
        this.leases = new RetentionLeases(store, retention, clock);
    }

    public Duration retention() {
        return leases.retention();
    }

    /** What a list asks for; {@code since} and {@code upto} are inclusive start times in epoch ms. */
    public record Query(Optional<String> path, long since, long upto, int skip, int limit) {
        public Query {
            requireNonNull(path, "path");
        }
    }

    /**
     * Stores a finished activation, its logs cut to {@code maxLogBytes} and its result to
     * {@link #MAX_RESULT_BYTES} as OpenWhisk does. Storing the same activation id twice keeps the first.
     */
    public void record(ActivationRecord activation, long maxLogBytes) {
        if (!recordsActivations.test(activation.namespace())) {
            return;
        }
        ActivationRecord r = bounded(activation, maxLogBytes);
        for (int attempt = 0; ; attempt++) {
            long lease = leases.leaseForNow();
            try {
                write(r, lease);
                return;
            } catch (LeaseNotFoundException e) {
                leases.forget(lease);
                if (attempt > 0) {
                    throw e;
                }
            }
        }
    }

    private void write(ActivationRecord r, long lease) {
        try {
            store.commit(recordOps(r, lease));
        } catch (ConflictException e) {
            LOG.info("activation {} of namespace {} was recorded before; keeping the first record", r.activationId(), r.namespace());
        }
    }

    /** A finished activation to record, with the ops that must commit with it (an acceptance to delete, say). */
    public record Finished(ActivationRecord record, long maxLogBytes, List<Op> alsoCommit) {
        public Finished {
            requireNonNull(record, "record");
            alsoCommit = List.copyOf(alsoCommit);
        }
    }

    /**
     * Records several finished activations in as few commits as the store's limits allow, which is
     * what keeps recording off the invoke path cheap: one consensus round for a batch. Each record
     * goes into one commit with the ops that must commit with it; a batch larger than one commit may
     * hold (records near the 1 MB result limit, say) is split, since the store refuses such a commit
     * every time and the batch would never be written. A record stored before (the same id) makes its
     * commit fall back to one commit per record, which keeps the first of each.
     */
    public void recordAll(List<Finished> batch) {
        if (batch.isEmpty()) {
            return;
        }
        for (int attempt = 0; ; attempt++) {
            long lease = leases.leaseForNow();
            try {
                List<Pending> pending = new ArrayList<>(batch.size());
                for (Finished f : batch) {
                    List<Op> ops = new ArrayList<>(f.alsoCommit());
                    if (recordsActivations.test(f.record().namespace())) {
                        ops.addAll(recordOps(bounded(f.record(), f.maxLogBytes()), lease));
                    }
                    pending.add(new Pending(f.record(), ops));
                }
                for (List<Pending> commit : commits(pending)) {
                    commitTogether(commit);
                }
                return;
            } catch (LeaseNotFoundException e) {
                leases.forget(lease);
                if (attempt > 0) {
                    throw e;
                }
            }
        }
    }

    /** A record and every op that must commit with it. */
    private record Pending(ActivationRecord record, List<Op> ops) {
        long bytes() {
            return StoreLimits.commitBytes(ops);
        }
    }

    /** Consecutive records grouped so that no group passes the store's limits on one commit. */
    private static List<List<Pending>> commits(List<Pending> pending) {
        StoreLimits limits = StoreLimits.DEFAULT;
        List<List<Pending>> commits = new ArrayList<>();
        List<Pending> current = new ArrayList<>();
        int ops = 0;
        long bytes = 0;
        for (Pending p : pending) {
            if (p.ops().isEmpty()) {
                continue;
            }
            boolean fits = ops + p.ops().size() <= limits.maxOpsPerCommit() && bytes + p.bytes() <= limits.maxCommitBytes();
            if (!fits && !current.isEmpty()) {
                commits.add(current);
                current = new ArrayList<>();
                ops = 0;
                bytes = 0;
            }
            current.add(p);
            ops += p.ops().size();
            bytes += p.bytes();
        }
        if (!current.isEmpty()) {
            commits.add(current);
        }
        return commits;
    }

    private void commitTogether(List<Pending> commit) {
        List<Op> ops = new ArrayList<>();
        commit.forEach(p -> ops.addAll(p.ops()));
        try {
            store.commit(ops);
        } catch (ConflictException e) {
            for (Pending p : commit) {
                try {
                    store.commit(p.ops());
                } catch (ConflictException again) {
                    LOG.info("activation {} of namespace {} was recorded before; keeping the first record",
                            p.record().activationId(), p.record().namespace());
                }
            }
        }
    }

    private List<Op> recordOps(ActivationRecord r, long lease) {
        String base = PREFIX + r.namespace() + "/";
        ObjectNode stored = r.full();
        stored.put("path", r.path());
        stored.put("statusCode", r.statusCode());
        byte[] logs = bytes(stored.get("logs"));
        if (logs.length > INLINE_LOG_BYTES) {
            int chunks = writeLogChunks(base + "log/" + r.activationId() + "/", r.logs(), lease);
            stored.remove("logs");
            stored.put("logChunks", chunks);
        }
        ObjectNode summary = r.summary();
        summary.put("path", r.path());
        byte[] summaryBytes = bytes(summary);
        String order = inverted(r.start()) + "/" + r.activationId();
        return List.of(
                new Op.Put(base + "id/" + r.activationId(), bytes(stored), Expect.absent(), lease),
                new Op.Put(base + "t/" + order, summaryBytes, Expect.any(), lease),
                new Op.Put(base + "n/" + encode(r.path()) + "/" + order, summaryBytes, Expect.any(), lease));
    }

    private int writeLogChunks(String prefix, List<String> lines, long lease) {
        List<Op> ops = new ArrayList<>();
        ArrayNode chunk = json.createArrayNode();
        int chunkBytes = 0;
        int n = 0;
        for (String line : lines) {
            int size = line.length() * 3 + 4;
            if (chunkBytes + size > LOG_CHUNK_BYTES && !chunk.isEmpty()) {
                ops.add(new Op.Put(prefix + pad(n++), bytes(chunk), Expect.any(), lease));
                chunk = json.createArrayNode();
                chunkBytes = 0;
                if (ops.size() == LOG_CHUNKS_PER_COMMIT) {
                    store.commit(ops);
                    ops = new ArrayList<>();
                }
            }
            chunk.add(line);
            chunkBytes += size;
        }
        if (!chunk.isEmpty()) {
            ops.add(new Op.Put(prefix + pad(n++), bytes(chunk), Expect.any(), lease));
        }
        if (!ops.isEmpty()) {
            store.commit(ops);
        }
        return n;
    }

    /** The record with logs and result cut to OpenWhisk's limits. */
    private ActivationRecord bounded(ActivationRecord r, long maxLogBytes) {
        List<String> logs = r.logs();
        long total = 0;
        for (int i = 0; i < logs.size(); i++) {
            total += logs.get(i).getBytes(StandardCharsets.UTF_8).length;
            if (total > maxLogBytes) {
                logs = new ArrayList<>(logs.subList(0, i));
                logs.add("Logs were truncated because the total bytes size exceeds the limit of " + maxLogBytes + " bytes.");
                break;
            }
        }
        JsonNode result = r.result();
        int statusCode = r.statusCode();
        int resultBytes = bytes(result).length;
        if (resultBytes > MAX_RESULT_BYTES) {
            result = json.createObjectNode().put("error", "The action produced a response that exceeded the allowed length: "
                    + resultBytes + " > " + MAX_RESULT_BYTES + " bytes.");
            statusCode = 1;
        }
        return new ActivationRecord(r.namespace(), r.name(), r.path(), r.subject(), r.activationId(), r.start(), r.end(),
                r.version(), statusCode, result, r.annotations(), logs, r.cause());
    }

    /** The full record as OpenWhisk serves it, with its logs. */
    public Optional<ObjectNode> get(String ns, String activationId) {
        String base = PREFIX + ns + "/";
        Optional<KeyValue> kv = store.get(base + "id/" + activationId);
        if (kv.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode record = parse(kv.get().value());
        if (record.has("logChunks")) {
            ArrayNode lines = record.putArray("logs");
            scanAll(base + "log/" + activationId + "/", page -> {
                for (KeyValue c : page) {
                    lines.addAll((ArrayNode) parseAny(c.value()));
                }
                return true;
            });
            record.remove("logChunks");
        }
        record.remove("path");
        record.remove("statusCode");
        return Optional.of(record);
    }

    /** Summaries (or, with {@code docs}, full records) newest first. */
    public List<ObjectNode> list(String ns, Query q, boolean docs) {
        List<ObjectNode> out = new ArrayList<>();
        int[] skipped = {0};
        scanMatching(ns, q, summary -> {
            if (skipped[0] < q.skip()) {
                skipped[0]++;
                return true;
            }
            ObjectNode item = docs ? get(ns, summary.path("activationId").asText()).orElse(null) : summary;
            if (item != null) {
                item.remove("path");
                out.add(item);
            }
            return out.size() < q.limit();
        });
        return out;
    }

    /** How many records match (skip and limit ignored, as OpenWhisk's {@code count} does). */
    public long count(String ns, Query q) {
        long[] n = {0};
        scanMatching(ns, q, summary -> {
            n[0]++;
            return true;
        });
        return n[0];
    }

    private interface Visitor {
        boolean visit(ObjectNode summary);
    }

    private void scanMatching(String ns, Query q, Visitor visitor) {
        String prefix = PREFIX + ns + "/" + q.path().map(p -> "n/" + encode(p) + "/").orElse("t/");
        // Keys order by inverted start time: begin at the first record that started at or before upto.
        String startAfter = q.upto() >= Long.MAX_VALUE - 1 ? "" : prefix + inverted(q.upto() + 1) + "~";
        ScanRequest req = new ScanRequest(prefix, startAfter, SCAN_PAGE, io.petrel.store.ReadConsistency.LINEARIZABLE);
        while (true) {
            ScanPage page = store.scan(req);
            for (KeyValue kv : page.items()) {
                ObjectNode summary = parse(kv.value());
                if (summary.path("start").asLong() < q.since()) {
                    return;
                }
                if (!visitor.visit(summary)) {
                    return;
                }
            }
            if (!page.more()) {
                return;
            }
            req = req.next(page);
        }
    }

    private interface PageVisitor {
        boolean visit(List<KeyValue> page);
    }

    private void scanAll(String prefix, PageVisitor visitor) {
        ScanRequest req = ScanRequest.prefix(prefix, SCAN_PAGE);
        while (true) {
            ScanPage page = store.scan(req);
            if (!visitor.visit(page.items()) || !page.more()) {
                return;
            }
            req = req.next(page);
        }
    }

    /** Removes every activation of a namespace (the namespace is being deleted). */
    public void deleteNamespace(String ns) {
        Prefixes.deleteAll(store, PREFIX + ns + "/");
    }

    /** Start times in descending key order: 19 digits of {@code Long.MAX_VALUE - start}. */
    static String inverted(long start) {
        return String.format("%019d", Long.MAX_VALUE - start);
    }

    private static String pad(int n) {
        return String.format("%06d", n);
    }

    private static String encode(String path) {
        return URLEncoder.encode(path, StandardCharsets.UTF_8);
    }

    private byte[] bytes(JsonNode node) {
        return StoredJson.bytes(json, node);
    }

    private ObjectNode parse(byte[] value) {
        return StoredJson.object(json, value, "activation data");
    }

    private JsonNode parseAny(byte[] value) {
        return StoredJson.tree(json, value, "activation data");
    }
}
