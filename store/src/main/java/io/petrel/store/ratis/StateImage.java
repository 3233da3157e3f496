package io.petrel.store.ratis;

import io.petrel.store.KeyValue;
import io.petrel.store.StoreException;
import org.rocksdb.RocksDBException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A zone's state database opened outside a running replica: what a restore builds from a snapshot and
 * archived entries, and what a verification checks. Entries are applied exactly as a replica applies
 * them, so a replayed image equals the state every replica had at that index.
 */
public final class StateImage implements AutoCloseable {
    private final Path dir;
    private final KvState state;

    private StateImage(Path dir, KvState state) {
        this.dir = dir;
        this.state = state;
    }

    /** Opens (creating if missing) the state in {@code dir}, checking every table file's checksums. */
    public static StateImage open(Path dir) throws IOException {
        return open(dir, true);
    }

    /**
     * Opens the state in {@code dir}; without {@code verifyTables} the table files' checksums are not
     * read first (for files just checked another way, e.g. against a manifest's sha256).
     */
    public static StateImage open(Path dir, boolean verifyTables) throws IOException {
        try {
            return new StateImage(dir, KvState.open(dir, verifyTables, 0));
        } catch (RocksDBException e) {
            throw new IOException("cannot open the state in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Opens the state in {@code dir} read-only: its files do not change while it is open (applying entries is refused). */
    public static StateImage openReadOnly(Path dir) throws IOException {
        try {
            return new StateImage(dir, KvState.openReadOnly(dir));
        } catch (RocksDBException e) {
            throw new IOException("cannot open the state in " + dir + " read-only: " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    public StatePosition position() {
        return new StatePosition(state.appliedTerm(), state.appliedIndex(), state.revision(), state.clock());
    }

    /**
     * Applies one archived entry. Entries must come in order: one at or below the applied index is
     * refused, and so is a gap.
     */
    public void apply(JournalEntry entry) throws IOException {
        long applied = state.appliedIndex();
        if (entry.index() != applied + 1) {
            throw new IOException("entry " + entry.index() + " does not follow the applied index " + applied);
        }
        try {
            if (entry.changesNothing()) {
                state.applyEmpty(entry.term(), entry.index());
            } else {
                var logData = org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(entry.logData());
                state.apply(entry.term(), entry.index(), Codec.logEntryTime(logData), Codec.logEntryCommands(logData));
            }
        } catch (RocksDBException e) {
            throw new IOException("applying entry " + entry.index() + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IOException("entry " + entry.index() + " is not a valid log entry: " + e.getMessage(), e);
        }
    }

    /** The same digest a live replica reports for the same state ({@code /admin/v1/digest}). */
    public String digest() {
        return state.digest();
    }

    public long keyCount() {
        return state.keyCount();
    }

    /** The digest and key count in one pass (what a backup records and a restore checks). */
    public Summary summary() {
        KvState.Summary s = state.summary();
        return new Summary(s.digest(), s.keys());
    }

    public record Summary(String digest, long keys) {
    }

    public Optional<KeyValue> get(String key) {
        return state.get(key);
    }

    /** Up to {@code limit} keys with {@code prefix} after {@code startAfter} (empty: from the start). */
    public List<KeyValue> scan(String prefix, String startAfter, int limit) {
        return state.scan(prefix, startAfter, limit).items();
    }

    /** Makes this state the start of a new cluster (its log starts again at index 0; data and revision stay). */
    public void rebaseForNewCluster() throws IOException {
        try {
            state.rebase();
        } catch (RocksDBException e) {
            throw new StoreException("rebasing the state in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    /** A checkpoint of this image in {@code target} (which must not exist). */
    public void copyTo(Path target) throws IOException {
        try {
            state.checkpoint(target);
        } catch (RocksDBException e) {
            throw new IOException("copying the state to " + target + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        state.close();
    }
}
