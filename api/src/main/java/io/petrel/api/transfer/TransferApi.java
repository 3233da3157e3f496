package io.petrel.api.transfer;

import io.petrel.api.ApiException;
import io.petrel.api.auth.Role;
import io.petrel.api.entity.Call;
import io.petrel.api.http.Exchange;
import io.petrel.api.transfer.ImportOptions.OnConflict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * A tenant's own export, import and sync position, with a key of the namespace:
 * <ul>
 *   <li>{@code GET /namespaces/{ns}/export[?since=REV[&from=SOURCE_ID]]}: the namespace as an
 *       archive (any key that may read it: admin, developer, reader);
 *   <li>{@code POST /namespaces/{ns}/import?onConflict=skip|overwrite|fail|replace&dryRun=&keys=}:
 *       an archive into the namespace (an admin key: an import may change the policy and the keys);
 *   <li>{@code GET /namespaces/{ns}/sync}: where the namespace's copy stands, for the next
 *       incremental sync.
 * </ul>
 */
public final class TransferApi {
    private static final Logger LOG = LoggerFactory.getLogger(TransferApi.class);
    /** A refused archive's unread rest is read up to this, so that a client still sending it gets the answer. */
    private static final long DRAINED_ON_REFUSAL = 64L * 1024 * 1024;
    /** Exports and imports are heavy (a temporary file, many store round trips): this many at once per zone. */
    private static final int CONCURRENT_TRANSFERS = 2;
    private static final int SLOT_WAIT_SECONDS = 5;

    private final NamespaceExporter exporter;
    private final NamespaceImporter importer;
    private final SyncPositions positions;
    private final Path spoolDir;
    private final String zone;
    private final Semaphore transfers = new Semaphore(CONCURRENT_TRANSFERS, true);
    private final Optional<PastStates> past;
    private final java.util.function.Function<io.petrel.store.Store, NamespaceExporter> exporterOver;

    /** {@code spoolDir}: where an export waits until its length is known. */
    public TransferApi(NamespaceExporter exporter, NamespaceImporter importer, SyncPositions positions, Path spoolDir, String zone) {
        this(exporter, importer, positions, spoolDir, zone, Optional.empty(), null);
    }

    /**
     * With {@code past} (the backups), {@code POST .../restore?toTime=T} brings a namespace back to its
     * state at T; {@code exporterOver} builds an exporter over such a past state.
     */
    public TransferApi(NamespaceExporter exporter, NamespaceImporter importer, SyncPositions positions, Path spoolDir, String zone,
                       Optional<PastStates> past, java.util.function.Function<io.petrel.store.Store, NamespaceExporter> exporterOver) {
        this.past = past;
        this.exporterOver = exporterOver;
        this.exporter = requireNonNull(exporter, "exporter");
        this.importer = requireNonNull(importer, "importer");
        this.positions = requireNonNull(positions, "positions");
        this.spoolDir = requireNonNull(spoolDir, "spoolDir");
        this.zone = requireNonNull(zone, "zone");
    }

    /** {@code what}: {@code export}, {@code import} or {@code sync}; {@code rest}: the path after it. */
    public void handle(Call call, String what, List<String> rest) throws IOException {
        Exchange ex = call.exchange();
        call.requireOwn();
        if (!rest.isEmpty() && !(rest.size() == 1 && rest.get(0).isEmpty())) {
            throw ApiException.notFound();
        }
        switch (what) {
            case "export" -> {
                requireMethod(ex, "GET");
                export(call);
            }
            case "import" -> {
                requireMethod(ex, "POST");
                importArchive(call);
            }
            case "restore" -> {
                requireMethod(ex, "POST");
                restore(call);
            }
            case "sync" -> {
                requireMethod(ex, "GET");
                SyncPositions.Position p = positions.get(call.namespace()).orElseThrow(() -> new ApiException(404, "Namespace " + call.namespace()
                        + " holds no synced copy: no import with onConflict=replace was made into it, or another import changed it since."));
                ex.reply(200, p.toJson());
            }
            default -> throw ApiException.notFound();
        }
    }

    private static void requireMethod(Exchange ex, String method) {
        if (!ex.method().equals(method)) {
            throw new ApiException(405, "HTTP method not allowed, supported methods: " + method);
        }
    }

    private void export(Call call) throws IOException {
        Exchange ex = call.exchange();
        String ns = call.namespace();
        OptionalLong since = ex.param("since").map(s -> OptionalLong.of(ex.longParam("since", 0))).orElse(OptionalLong.empty());
        Optional<String> from = ex.param("from").filter(s -> !s.isBlank());
        acquire();
        try {
            Files.createDirectories(spoolDir);
            // Written whole before it is sent: the answer then has its length, and a failure mid-export is an error answer, not a cut stream.
            Path file = Files.createTempFile(spoolDir, "petrel-archive-", ".zip");
            try {
                long t0 = System.nanoTime();
                ArchiveManifest m;
                try (Heartbeat alive = Heartbeat.start(ex);
                     OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024)) {
                    m = exporter.export(new NamespaceExporter.Request(ns, since, from), out);
                } catch (IOException e) {
                    LOG.warn("zone {}: export of namespace {} failed: {}", zone, ns, e.toString());
                    throw new ApiException(503, "The export of namespace " + ns + " failed (" + e.getMessage() + "); export again.");
                }
                long size = Files.size(file);
                LOG.info("zone {}: namespace {} exported by key {} at revision {}{}: {} entries, {} bytes in {} ms", zone, ns, call.who().uuid(),
                        m.revision(), m.since().isPresent() ? " (changes since " + m.since().getAsLong() + ")" : "", m.entries().size(), size,
                        (System.nanoTime() - t0) / 1_000_000);
                ex.setHeader("Content-Disposition", "attachment; filename=\"" + ns + "-" + m.revision() + ".zip\"");
                ex.setHeader("X-Petrel-Archive-Revision", Long.toString(m.revision()));
                ex.stream(200, NamespaceArchive.MEDIA_TYPE, size, Files.newInputStream(file));
            } finally {
                Files.deleteIfExists(file);
            }
        } finally {
            transfers.release();
        }
    }

    private void importArchive(Call call) throws IOException {
        Exchange ex = call.exchange();
        String ns = call.namespace();
        if (call.who().role() != Role.ADMIN) {
            throw new ApiException(403, "An import may change namespace " + ns + "'s policy and keys, so it needs an admin key of the namespace;"
                    + " this is a '" + call.who().role().id() + "' key.");
        }
        OnConflict onConflict = ex.param("onConflict").map(OnConflict::parse).orElse(OnConflict.FAIL);
        boolean keys = ex.param("keys").map(v -> !v.equalsIgnoreCase("false")).orElse(true);
        ImportOptions options = new ImportOptions(ns, onConflict, ex.flag("dryRun"), keys, Optional.of(call.who().uuid()));
        acquire();
        AtomicReference<Heartbeat> alive = new AtomicReference<>();
        try {
            long t0 = System.nanoTime();
            // Beats only once the whole body is in: until then the client's own bytes keep the connection busy.
            InputStream body = new FilterInputStream(ex.bodyStream()) {
                @Override
                public int read() throws IOException {
                    return ended(super.read());
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return ended(super.read(b, off, len));
                }

                private int ended(int n) {
                    if (n < 0 && alive.get() == null) {
                        alive.set(Heartbeat.start(ex));
                    }
                    return n;
                }
            };
            ImportReport r;
            try {
                r = importer.importArchive(body, options);
            } finally {
                Optional.ofNullable(alive.get()).ifPresent(Heartbeat::close);
            }
            LOG.info("zone {}: archive of namespace {} (revision {}) {} namespace {} by key {} ({}): {} created, {} overwritten, {} skipped,"
                            + " {} deleted, {} unchanged in {} ms", zone, r.archive().namespace(), r.archive().revision(),
                    options.dryRun() ? "checked against" : "imported into", ns, call.who().uuid(), onConflict.id(), r.created().size(),
                    r.overwritten().size(), r.skipped().size(), r.deleted().size(), r.unchanged(), (System.nanoTime() - t0) / 1_000_000);
            ex.reply(200, r.toJson());
        } catch (ArchiveException e) {
            LOG.info("zone {}: archive refused for namespace {}: {}", zone, ns, e.getMessage());
            ex.discardUnreadBody(DRAINED_ON_REFUSAL);
            throw ApiException.badRequest("The archive was refused, and nothing was changed: " + e.getMessage() + ".");
        } finally {
            transfers.release();
        }
    }

    /**
     * Brings one namespace back to its state at {@code toTime}: the region's state then is rebuilt from
     * the backups in a scratch folder, the namespace is exported from it and imported with
     * {@code replace} semantics; no other namespace is touched. The caller's own key is kept.
     */
    private void restore(Call call) throws IOException {
        Exchange ex = call.exchange();
        String ns = call.namespace();
        if (call.who().role() != Role.ADMIN) {
            throw new ApiException(403, "A restore replaces namespace " + ns + "'s content, policy and keys, so it needs an admin key of it;"
                    + " this is a '" + call.who().role().id() + "' key.");
        }
        if (past.isEmpty()) {
            throw new ApiException(501, "This region keeps no backups (backup.target is not set), so no namespace can be restored from them.");
        }
        String t = ex.param("toTime").orElseThrow(() -> ApiException.badRequest("Give the time to restore to: toTime=2026-12-01T16:30:00Z."));
        java.time.Instant time;
        try {
            time = t.matches("\\d{10,}") ? java.time.Instant.ofEpochMilli(Long.parseLong(t)) : java.time.OffsetDateTime.parse(t).toInstant();
        } catch (RuntimeException e) {
            throw ApiException.badRequest("toTime must be ISO-8601 with an offset (2026-12-01T16:30:00Z) or epoch milliseconds, not '" + t + "'.");
        }
        ImportOptions options = new ImportOptions(ns, OnConflict.REPLACE, ex.flag("dryRun"), true, Optional.of(call.who().uuid()));
        acquire();
        try (Heartbeat alive = Heartbeat.start(ex)) {
            long t0 = System.nanoTime();
            Files.createDirectories(spoolDir);
            Path file = Files.createTempFile(spoolDir, "petrel-restore-", ".zip");
            try {
                try (io.petrel.store.Store then = past.get().at(time);
                     OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024)) {
                    exporterOver.apply(then).export(NamespaceExporter.Request.full(ns), out);
                } catch (ApiException e) {
                    throw e.status() == 404 ? new ApiException(404, "Namespace " + ns + " did not exist at " + time + ".") : e;
                } catch (IOException e) {
                    throw new ApiException(409, "Namespace " + ns + " cannot be restored to " + time + ": " + e.getMessage());
                }
                ImportReport r;
                try (InputStream in = Files.newInputStream(file)) {
                    r = importer.importArchive(in, options);
                }
                LOG.info("zone {}: namespace {} {} to its state at {} by key {}: {} created, {} overwritten, {} deleted, {} unchanged in {} ms",
                        zone, ns, options.dryRun() ? "checked for a restore" : "restored", time, call.who().uuid(), r.created().size(),
                        r.overwritten().size(), r.deleted().size(), r.unchanged(), (System.nanoTime() - t0) / 1_000_000);
                ex.reply(200, r.toJson());
            } finally {
                Files.deleteIfExists(file);
            }
        } finally {
            transfers.release();
        }
    }

    private void acquire() {
        try {
            // Waits silently, so well inside the gateway's attempt timeout: a busy zone answers 503 and the client tries again or elsewhere.
            if (!transfers.tryAcquire(SLOT_WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new ApiException(503, "This zone is busy with " + CONCURRENT_TRANSFERS + " other exports or imports; retry later.");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "The system is shutting down.");
        }
    }
}
