package io.petrel.backup;

import io.petrel.store.KeyValue;
import io.petrel.store.Lease;
import io.petrel.store.Op;
import io.petrel.store.Read;
import io.petrel.store.ReadConsistency;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Staleness;
import io.petrel.store.Store;
import io.petrel.store.StoreException;
import io.petrel.store.Watch;
import io.petrel.store.WatchListener;
import io.petrel.store.ratis.StateImage;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * A restored past state, read through the {@link Store} interface so that the code that reads a live
 * namespace (an export) reads it the same way. It is a record of the past: every write is refused.
 * Closing it deletes the scratch folder it was restored into.
 */
public final class PastStateStore implements Store {
    private final StateImage image;
    private final Path scratch;
    private final Instant at;

    public PastStateStore(StateImage image, Path scratch, Instant at) {
        this.image = requireNonNull(image, "image");
        this.scratch = requireNonNull(scratch, "scratch");
        this.at = requireNonNull(at, "at");
    }

    /** Restores the region's state at {@code time} from {@code repository} into {@code scratch} (deleted first). */
    public static PastStateStore restore(BackupRepository repository, Optional<String> cluster, Instant time, Path scratch) throws IOException {
        SnapshotWriter.deleteRecursively(scratch);
        BackupCatalog catalog = new BackupCatalog(repository);
        RestorePlan plan;
        try {
            plan = catalog.plan(cluster, new RestorePoint.AtTime(time));
        } catch (IOException e) {
            if (cluster.isEmpty()) {
                throw e;
            }
            plan = catalog.plan(Optional.empty(), new RestorePoint.AtTime(time)); // from before this cluster was restored
        }
        new Restorer(repository).restore(plan, scratch, false, false, Progress.NONE);
        return new PastStateStore(StateImage.openReadOnly(scratch), scratch, time);
    }

    private Staleness staleness() {
        var p = image.position();
        return new Staleness("backup@" + at, p.index(), p.index(), -1);
    }

    @Override
    public Read<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
        return new Read<>(image.get(key), staleness());
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        List<KeyValue> items = image.scan(request.prefix(), request.startAfter(), request.limit() + 1);
        boolean more = items.size() > request.limit();
        List<KeyValue> page = more ? items.subList(0, request.limit()) : items;
        return new ScanPage(List.copyOf(page), more, page.isEmpty() ? request.startAfter() : page.getLast().key(), revision(), staleness());
    }

    @Override
    public long revision() {
        return image.position().revision();
    }

    private StoreException readOnly() {
        return new StoreException("the state at " + at + " is a record of the past, restored from backups: it takes no writes");
    }

    @Override
    public boolean delete(String key, io.petrel.store.Expect expect) {
        throw readOnly();
    }

    @Override
    public long commit(List<Op> ops) {
        throw readOnly();
    }

    @Override
    public Lease grantLease(Duration ttl) {
        throw readOnly();
    }

    @Override
    public Lease keepAlive(long leaseId) {
        throw readOnly();
    }

    @Override
    public boolean revokeLease(long leaseId) {
        throw readOnly();
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        throw new StoreException("the state at " + at + " does not change: there is nothing to watch");
    }

    @Override
    public void close() {
        image.close();
        try {
            SnapshotWriter.deleteRecursively(scratch);
        } catch (IOException e) {
            throw new StoreException("cannot delete the restored state in " + scratch + ": " + e.getMessage(), e);
        }
    }
}
