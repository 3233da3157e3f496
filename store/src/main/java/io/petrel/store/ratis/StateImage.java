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

    /**
     * Makes this state, which is cluster {@code sourceCluster}'s at its applied position, the start of a
     * new cluster that follows that one as a standby of region {@code primary} in {@code epoch}.
     */
    public void rebaseAsStandby(String primary, long epoch, String sourceCluster) throws IOException {
        try {
            state.rebaseAsStandby(primary, epoch, sourceCluster);
        } catch (RocksDBException e) {
            throw new StoreException("rebasing the state in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    /** The journal's entries from {@code fromIndex} on: what this state applied and its archive did not take yet. */
    public List<JournalEntry> journalFrom(long fromIndex) {
        List<JournalEntry> out = new java.util.ArrayList<>();
        long next = fromIndex;
        while (true) {
            JournalRead read = state.readJournal(next, 1024, 64L * 1024 * 1024);
            if (read.entries().isEmpty()) {
                return out;
            }
            out.addAll(read.entries());
            next = read.entries().getLast().index() + 1;
        }
    }

    /** The keys a journal entry's client writes put or deleted (for reports of writes a region lost). */
    public static List<String> keysWritten(JournalEntry entry) {
        if (entry.changesNothing()) {
            return List.of();
        }
        var logData = org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(entry.logData());
        return Codec.logEntryCommands(logData).stream().filter(c -> c.type() == WriteCmd.Type.COMMIT)
                .flatMap(c -> c.ops().stream()).map(WriteCmd.OpDto::key).distinct().toList();
    }

    /** The region's disaster-recovery role recorded in this state. */
    public RegionState region() {
        return state.region();
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
