package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.StoredJson;
import io.petrel.api.auth.KeyRecord;
import io.petrel.api.blob.BlobManifest;
import io.petrel.api.blob.BlobStore;
import io.petrel.api.entity.Collection;
import io.petrel.api.entity.EntityName;
import io.petrel.api.transfer.NamespaceArchive.Kind;
import io.petrel.store.KeyValue;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Writes a namespace to an archive, reading the store through {@link Store} only. Activation
 * records, stored answers of retried writes and the namespace's limits are not part of it: they are
 * the region's, not the tenant's content.
 *
 * <p>The store has no reads at an old revision, so an export is as consistent as paging allows: it
 * reads the store's revision first and then pages through the namespace's key ranges. Every change
 * up to that revision is in the archive; a change made while the export runs may or may not be, and
 * the next export {@code since} the archive's revision carries it again. Code and artifact bytes are
 * content-addressed chunks that never change, so what the manifest promises is what is streamed,
 * unless the item is deleted and its chunks collected meanwhile, in which case the export fails and
 * says so.
 */
public final class NamespaceExporter {
    private static final int PAGE = 100;
    private static final List<Collection> ENTITY_ORDER = List.of(Collection.PACKAGES, Collection.ACTIONS, Collection.TRIGGERS, Collection.RULES);

    private final Store store;
    private final BlobStore blobs;
    private final ObjectMapper json;
    private final ArchiveForms forms;
    private final LongSupplier clock;
    private final String zone;
    private final Path spoolDir;

    /**
     * What to export: a whole namespace, or what changed in it after {@code since}. With
     * {@code sinceSource} (a sync continuing from an earlier archive), {@code since} applies only if
     * the namespace is still the one that archive came from and the store has not gone back before
     * {@code since} (a restore); otherwise the export is a full one.
     */
    public record Request(String namespace, OptionalLong since, Optional<String> sinceSource) {
        public Request {
            requireNonNull(namespace, "namespace");
            requireNonNull(since, "since");
            requireNonNull(sinceSource, "sinceSource");
            if (since.isPresent() && since.getAsLong() < 0) {
                throw ApiException.badRequest("The revision to export since must not be negative, got " + since.getAsLong() + ".");
            }
        }

        public static Request full(String namespace) {
            return new Request(namespace, OptionalLong.empty(), Optional.empty());
        }
    }

    /** {@code spoolDir}: where small values wait until the manifest is written. */
    public NamespaceExporter(Store store, BlobStore blobs, ObjectMapper json, LongSupplier clock, String zone, Path spoolDir) {
        this.store = requireNonNull(store, "store");
        this.blobs = requireNonNull(blobs, "blobs");
        this.json = requireNonNull(json, "json");
        this.forms = new ArchiveForms(json);
        this.clock = requireNonNull(clock, "clock");
        this.zone = requireNonNull(zone, "zone");
        this.spoolDir = requireNonNull(spoolDir, "spoolDir");
    }

    /** Writes the archive to {@code out} (not closed) and returns its manifest. */
    public ArchiveManifest export(Request request, OutputStream out) throws IOException {
        String ns = request.namespace();
        if (!EntityName.isValidNamespace(ns)) {
            throw ApiException.badRequest(ApiException.BAD_NAME);
        }
        long revision = store.revision();
        long created = clock.getAsLong();
        KeyValue record = store.get(NamespaceKeys.namespace(ns)).orElseThrow(() -> new ApiException(404, "Namespace " + ns + " does not exist."));
        ArchiveSource source = new ArchiveSource(sourceId(record, json), zone);
        OptionalLong since = since(request, source, revision);
        try (Spool spool = Spool.create(spoolDir)) {
            Collector c = new Collector(ns, since, spool);
            c.collect();
            ArchiveManifest manifest = new ArchiveManifest(ns, source, Instant.ofEpochMilli(created), revision, since,
                    new ArchiveManifest.Present(c.policyPresent, c.names), c.entries);
            ArchiveWriter writer = new ArchiveWriter(out, manifest, json);
            for (Content content : c.contents) {
                try (InputStream in = content.open(spool)) {
                    writer.write(in);
                } catch (UncheckedIOException e) {
                    throw new IOException("the export of namespace " + ns + " failed: " + e.getCause().getMessage()
                            + " (an item was deleted or replaced while the export ran; export again)", e.getCause());
                }
            }
            writer.finish();
            return manifest;
        }
    }

    private static OptionalLong since(Request request, ArchiveSource source, long revision) {
        if (request.since().isEmpty()) {
            return OptionalLong.empty();
        }
        long since = request.since().getAsLong();
        if (request.sinceSource().isPresent()) {
            boolean continues = request.sinceSource().get().equals(source.id()) && since <= revision;
            return continues ? request.since() : OptionalLong.empty();
        }
        if (since > revision) {
            throw ApiException.badRequest("Revision " + since + " is after this store's current revision " + revision
                    + ": it comes from another region, or this one was restored. Export without 'since'.");
        }
        return request.since();
    }

    /**
     * The identity of a namespace's incarnation: its name, the revision its record was created at and
     * its creation time. Another region's namespace of the same name, or the same name made again
     * here, has another one.
     */
    static String sourceId(KeyValue namespaceRecord, ObjectMapper json) {
        long created = StoredJson.object(json, namespaceRecord.value(), "namespace record " + namespaceRecord.key())
                .path("created").asLong();
        String identity = namespaceRecord.key() + "@" + namespaceRecord.createRevision() + "@" + created;
        return Digests.sha256(identity.getBytes(StandardCharsets.UTF_8)).substring(0, 32);
    }

    /** Where an entry's bytes come from when it is written. */
    private sealed interface Content permits Spooled, Blob {
        InputStream open(Spool spool) throws IOException;
    }

    private record Spooled(long offset, long length) implements Content {
        @Override
        public InputStream open(Spool spool) throws IOException {
            return spool.open(offset, length);
        }
    }

    private final class Blob implements Content {
        private final BlobManifest manifest;

        Blob(BlobManifest manifest) {
            this.manifest = manifest;
        }

        @Override
        public InputStream open(Spool spool) {
            return blobs.open(manifest);
        }
    }

    /** One pass over the namespace's key ranges: the entries, the bytes they will have, and the names present. */
    private final class Collector {
        private final String ns;
        private final OptionalLong since;
        private final Spool spool;
        private final List<ArchiveEntry> entries = new ArrayList<>();
        private final List<Content> contents = new ArrayList<>();
        private final Map<Kind, List<String>> names = new EnumMap<>(Kind.class);
        private boolean policyPresent;

        Collector(String ns, OptionalLong since, Spool spool) {
            this.ns = ns;
            this.since = since;
            this.spool = spool;
            ArchiveManifest.LISTED.forEach(k -> names.put(k, new ArrayList<>()));
        }

        private boolean changed(KeyValue kv) {
            return since.isEmpty() || kv.modRevision() > since.getAsLong();
        }

        private void add(Kind kind, String name, byte[] bytes) throws IOException {
            long at = spool.append(bytes);
            entries.add(ArchiveEntry.of(kind, name, bytes.length, Digests.sha256(bytes)));
            contents.add(new Spooled(at, bytes.length));
        }

        private void addBlob(Kind kind, String name, BlobManifest blob) {
            entries.add(ArchiveEntry.of(kind, name, blob.size(), blob.sha256()));
            contents.add(new Blob(blob));
        }

        void collect() throws IOException {
            Optional<KeyValue> policy = store.get(NamespaceKeys.policy(ns));
            policyPresent = policy.isPresent();
            if (policy.isPresent() && changed(policy.get())) {
                add(Kind.POLICY, Kind.POLICY_NAME, forms.bytes(forms.policy(StoredJson.tree(json, policy.get().value(), "policy of " + ns))));
            }
            for (Collection c : ENTITY_ORDER) {
                Kind kind = kindOf(c);
                String prefix = NamespaceKeys.entities(ns, c);
                scan(prefix, kv -> {
                    String name = kv.key().substring(prefix.length());
                    names.get(kind).add(name);
                    if (changed(kv)) {
                        ArchiveForms.Entity e = forms.entity(StoredJson.object(json, kv.value(), "entity " + kv.key()));
                        add(kind, name, forms.bytes(e.doc()));
                        if (e.code().isPresent()) {
                            switch (e.code().get()) {
                                case ArchiveForms.InlineCode inline -> add(Kind.ACTION_CODE, name, inline.bytes());
                                case ArchiveForms.BlobCode blob -> addBlob(Kind.ACTION_CODE, name, blob.manifest());
                            }
                        }
                    }
                });
            }
            scan(NamespaceKeys.KEYS, kv -> {
                KeyRecord r = json.readValue(kv.value(), KeyRecord.class);
                if (r.namespace().equals(ns)) {
                    names.get(Kind.KEY).add(r.uuid());
                    if (changed(kv)) {
                        add(Kind.KEY, r.uuid(), forms.bytes(forms.key(r)));
                    }
                }
            });
            String artifacts = NamespaceKeys.artifacts(ns);
            scan(artifacts, kv -> {
                String name = kv.key().substring(artifacts.length());
                names.get(Kind.ARTIFACT).add(name);
                if (changed(kv)) {
                    ObjectNode meta = StoredJson.object(json, kv.value(), "artifact record " + kv.key());
                    add(Kind.ARTIFACT, name, forms.bytes(forms.artifact(meta)));
                    addBlob(Kind.ARTIFACT_DATA, name, BlobManifest.fromJson(meta.path("blob")));
                }
            });
        }
    }

    static Kind kindOf(Collection c) {
        return switch (c) {
            case PACKAGES -> Kind.PACKAGE;
            case ACTIONS -> Kind.ACTION;
            case TRIGGERS -> Kind.TRIGGER;
            case RULES -> Kind.RULE;
        };
    }

    @FunctionalInterface
    private interface Visitor {
        void visit(KeyValue kv) throws IOException;
    }

    private void scan(String prefix, Visitor visitor) throws IOException {
        ScanRequest req = ScanRequest.prefix(prefix, PAGE);
        while (true) {
            ScanPage page = store.scan(req);
            for (KeyValue kv : page.items()) {
                visitor.visit(kv);
            }
            if (!page.more()) {
                return;
            }
            req = req.next(page);
        }
    }
}
