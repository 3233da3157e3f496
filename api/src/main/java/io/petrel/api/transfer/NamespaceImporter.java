package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.artifact.ArtifactStore;
import io.petrel.api.auth.KeyRecord;
import io.petrel.api.blob.BlobManifest;
import io.petrel.api.blob.BlobStore;
import io.petrel.api.entity.Collection;
import io.petrel.api.entity.EntityStore;
import io.petrel.api.namespace.NamespaceRegistry;
import io.petrel.api.namespace.PolicyRegistry;
import io.petrel.api.transfer.ImportOptions.OnConflict;
import io.petrel.api.transfer.NamespaceArchive.Kind;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.Op;
import io.petrel.store.Store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Reads an archive into a namespace. The whole archive is staged and checked first ({@link
 * StagedArchive}), then the plan is made with every reason to refuse ({@link ImportPlan}); only then
 * is anything written, each item through the part of the API that owns it (entities with their name
 * claims, code and artifacts as blobs whose references are handed over in the same commit, the
 * policy merged as a PUT merges it), at the revision the plan read it at.
 *
 * <p>An import is many commits, not one: if the store fails half-way, or the namespace changes
 * under it, what was written stays and the import says where it stopped. Importing the same archive
 * again finishes it: items already as the archive has them are left alone.
 */
public final class NamespaceImporter {
    /** Code up to this size goes into the action's document, larger code into a blob: as the API keeps it (EntityStore). */
    static final int INLINE_CODE_BYTES = 512 * 1024;

    private final Store store;
    private final EntityStore entities;
    private final BlobStore blobs;
    private final PolicyRegistry policies;
    private final NamespaceRegistry namespaces;
    private final SyncPositions positions;
    private final ArtifactStore artifacts;
    private final ObjectMapper json;
    private final LongSupplier clock;
    private final Path spoolDir;

    /** {@code spoolDir}: where an archive is staged while it is checked. */
    public NamespaceImporter(Store store, EntityStore entities, BlobStore blobs, PolicyRegistry policies, NamespaceRegistry namespaces,
                             SyncPositions positions, ObjectMapper json, LongSupplier clock, Path spoolDir) {
        this.store = requireNonNull(store, "store");
        this.entities = requireNonNull(entities, "entities");
        this.blobs = requireNonNull(blobs, "blobs");
        this.policies = requireNonNull(policies, "policies");
        this.namespaces = requireNonNull(namespaces, "namespaces");
        this.positions = requireNonNull(positions, "positions");
        this.json = requireNonNull(json, "json");
        this.clock = requireNonNull(clock, "clock");
        this.spoolDir = requireNonNull(spoolDir, "spoolDir");
        this.artifacts = new ArtifactStore(store, blobs, json, clock);
    }

    /**
     * Imports the archive {@code in} holds (read to its end) as {@code options} say.
     *
     * @throws ArchiveException if it is not a valid archive; nothing is changed
     * @throws ApiException     if it is refused (see {@link ImportPlan#make}); nothing is changed
     */
    public ImportReport importArchive(InputStream in, ImportOptions options) throws IOException {
        String ns = options.namespace();
        if (namespaces.get(ns).isEmpty()) {
            throw new ApiException(404, "Namespace " + ns + " does not exist in this region; an archive is imported into an existing namespace"
                    + " (create it with: petrel ns create " + ns + ").");
        }
        try (StagedArchive staged = StagedArchive.stage(in, ns, spoolDir, json)) {
            TargetState target = TargetState.read(store, json, ns);
            long quota = namespaces.limits(ns).path("artifactQuotaBytes").asLong();
            ImportPlan plan = ImportPlan.make(staged, target, options, positions.get(ns), policies.get(ns), quota);
            ImportReport report = plan.report(staged.manifest(), options);
            if (options.dryRun()) {
                return report;
            }
            apply(staged, plan, ns, quota);
            ArchiveManifest m = staged.manifest();
            if (options.onConflict() == OnConflict.REPLACE) {
                positions.put(ns, new SyncPositions.Position(m.source().id(), m.namespace(), m.revision(), clock.getAsLong(), store.revision()));
            } else if (report.changes()) {
                // The namespace is no longer exactly some source's content: a later sync must start over.
                positions.delete(ns);
            }
            return report;
        }
    }

    private void apply(StagedArchive staged, ImportPlan plan, String ns, long quota) throws IOException {
        for (TargetState.Item d : plan.deletions()) {
            delete(ns, d);
        }
        for (ImportPlan.Step s : plan.steps()) {
            if (s.writes() && s.displaced().isPresent()) {
                delete(ns, s.displaced().get());
            }
        }
        staged.replay(new Writer(staged, plan, ns, quota));
    }

    /** Writes each item the plan writes, as the replay reaches it; an item with content waits for its content entry. */
    private final class Writer implements StagedArchive.EntryHandler {
        private final StagedArchive staged;
        private final ImportPlan plan;
        private final String ns;
        private final long quota;
        private final NamespaceRewrite rewrite;
        private final List<ArchiveEntry> entries;
        private int index;
        private ImportPlan.Step waiting;
        private ObjectNode waitingDoc;

        Writer(StagedArchive staged, ImportPlan plan, String ns, long quota) {
            this.staged = staged;
            this.plan = plan;
            this.ns = ns;
            this.quota = quota;
            this.rewrite = new NamespaceRewrite(staged.manifest().namespace(), ns);
            this.entries = staged.manifest().entries();
        }

        @Override
        public void handle(ArchiveReader.Entry entry) throws IOException {
            ArchiveEntry meta = entry.meta();
            int i = index++;
            if (!meta.kind().isItem()) {
                if (waiting != null) {
                    ImportPlan.Step step = waiting;
                    waiting = null;
                    write(step, waitingDoc, Optional.of(entry));
                }
                return;
            }
            Optional<ImportPlan.Step> step = plan.step(meta.kind(), meta.name()).filter(ImportPlan.Step::writes);
            if (step.isEmpty()) {
                return;
            }
            ObjectNode doc = rewrite.apply(meta.kind(), staged.document(entry));
            if (i + 1 < entries.size() && !entries.get(i + 1).kind().isItem()) {
                waiting = step.get();
                waitingDoc = doc;
            } else {
                write(step.get(), doc, Optional.empty());
            }
        }

        private void write(ImportPlan.Step step, ObjectNode doc, Optional<ArchiveReader.Entry> content) throws IOException {
            try {
                switch (step.kind()) {
                    case POLICY -> policies.update(ns, doc);
                    case PACKAGE, TRIGGER, RULE -> putEntity(step, doc, List.of());
                    case ACTION -> putAction(step, doc, content);
                    case KEY -> putKey(step, doc);
                    case ARTIFACT -> putArtifact(step, doc, content.orElseThrow());
                    default -> throw new IllegalStateException(step.kind() + " is not an item");
                }
            } catch (ApiException e) {
                throw stopped(step.kind().label(step.name()), e);
            }
        }

        private void putEntity(ImportPlan.Step step, ObjectNode doc, List<Op> more) {
            Collection c = collection(step.kind());
            if (step.existing().isPresent()) {
                entities.update(ns, c, step.name(), doc, step.existing().get().revision(), more);
            } else {
                entities.create(ns, c, step.name(), doc, more);
            }
        }

        private void putAction(ImportPlan.Step step, ObjectNode doc, Optional<ArchiveReader.Entry> code) throws IOException {
            if (code.isEmpty()) {
                putEntity(step, doc, List.of());
                return;
            }
            ObjectNode exec = (ObjectNode) doc.get("exec");
            ArchiveEntry meta = code.get().meta();
            if (meta.size() <= INLINE_CODE_BYTES) {
                exec.put("code", new String(code.get().content().readAllBytes(), StandardCharsets.UTF_8));
                putEntity(step, doc, List.of());
                return;
            }
            // The same code kept as a blob already: refer to it, rather than count its chunks twice.
            Optional<BlobManifest> same = step.existing().flatMap(TargetState.Item::codeBlob)
                    .filter(b -> b.sha256().equals(meta.sha256()) && b.size() == meta.size());
            if (same.isPresent()) {
                exec.set("codeBlob", same.get().toJson());
                putEntity(step, doc, List.of());
                return;
            }
            BlobStore.Upload upload = blobs.startUpload();
            boolean committed = false;
            try {
                BlobManifest blob = upload.write(code.get().content(), NamespaceArchive.MAX_CODE_BYTES);
                exec.set("codeBlob", blob.toJson());
                putEntity(step, doc, List.of(upload.finishOp()));
                committed = true;
            } finally {
                if (!committed) {
                    upload.abort();
                }
            }
        }

        private void putKey(ImportPlan.Step step, ObjectNode doc) throws IOException {
            KeyRecord record = new KeyRecord(doc.path("uuid").asText(), ns, doc.path("salt").asText(), doc.path("hash").asText(),
                    doc.path("created").asLong(), doc.path("role").isNull() ? null : doc.path("role").asText());
            Expect expect = step.existing().map(t -> Expect.revision(t.revision())).orElse(Expect.absent());
            try {
                store.put(NamespaceKeys.KEYS + record.uuid(), json.writeValueAsBytes(record), expect);
            } catch (ConflictException e) {
                throw ApiException.conflict(ApiException.CONCURRENT);
            }
        }

        private void putArtifact(ImportPlan.Step step, ObjectNode doc, ArchiveReader.Entry data) throws IOException {
            // The artifact keeps the time it was last updated at the source: the API stamps a write with its clock's time.
            long updated = doc.path("updated").asLong();
            new ArtifactStore(store, blobs, json, () -> updated).put(ns, step.name(), doc.path("contentType").asText(), data.content(),
                    data.meta().size(), true, quota, view -> List.of());
        }
    }

    private void delete(String ns, TargetState.Item t) {
        try {
            switch (t.kind()) {
                case POLICY -> policies.delete(ns);
                case PACKAGE, ACTION, TRIGGER, RULE -> entities.delete(ns, collection(t.kind()), t.name(), t.revision(), List.of());
                case KEY -> {
                    try {
                        store.delete(NamespaceKeys.KEYS + t.name(), Expect.revision(t.revision()));
                    } catch (ConflictException e) {
                        throw ApiException.conflict(ApiException.CONCURRENT);
                    }
                }
                case ARTIFACT -> artifacts.delete(ns, t.name());
                default -> throw new IllegalStateException(t.kind() + " is not an item");
            }
        } catch (ApiException e) {
            throw stopped(t.label() + " (deleting it)", e);
        }
    }

    private static ApiException stopped(String where, ApiException e) {
        if (e.status() != 409) {
            return e;
        }
        return ApiException.conflict("The import stopped at " + where + ": the namespace changed while the import ran. What was written before"
                + " it stays; import the archive again to finish.");
    }

    private static Collection collection(Kind kind) {
        return switch (kind) {
            case PACKAGE -> Collection.PACKAGES;
            case ACTION -> Collection.ACTIONS;
            case TRIGGER -> Collection.TRIGGERS;
            case RULE -> Collection.RULES;
            default -> throw new IllegalArgumentException(kind + " is not an entity");
        };
    }
}
