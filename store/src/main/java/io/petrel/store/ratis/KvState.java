package io.petrel.store.ratis;

import io.petrel.store.KeyValue;
import io.petrel.store.StoreException;
import io.petrel.store.WatchEvent;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The replicated state of one replica, kept in RocksDB: the data, the leases, and in the same write
 * batch as every change, the log position it covers ({@code applied}) and the store revision.
 *
 * <p>{@link #apply} is deterministic: it depends only on the state and on the log entry (including
 * the leader's clock stamped into it), never on this machine's clock or on how entries were batched.
 * It is called by one thread only (Ratis's state machine updater); reads may come from any thread.
 */
final class KvState implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private static final byte[] CF_META = "meta".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CF_LEASES = "leases".getBytes(StandardCharsets.UTF_8);
    /** The applied log kept for the backup archive: index -> [term][revision after][clock][flags][log data]. */
    private static final byte[] CF_JOURNAL = "journal".getBytes(StandardCharsets.UTF_8);
    /**
     * Which keys each lease holds: [lease id][key] -> nothing. On disk, not in memory: activation
     * records hold a retention lease each, and a zone kept every such key in its heap until the lease
     * ran out (hours), which under steady invocations grew the heap without bound and its pauses cost
     * the leader its term.
     */
    private static final byte[] CF_LEASE_KEYS = "leasekeys".getBytes(StandardCharsets.UTF_8);
    /** Set once {@link #CF_LEASE_KEYS} holds every leased key (a state written before it existed is indexed on open). */
    private static final byte[] K_LEASE_INDEX = bytes("leaseIndex");
    private static final byte[] NOTHING = new byte[0];
    private static final byte[] K_ARCHIVED = bytes("archived");
    private static final byte[] K_APPLIED = bytes("applied");
    private static final byte[] K_REVISION = bytes("revision");
    private static final byte[] K_CLOCK = bytes("clock");
    private static final byte[] K_LEASE_TERM = bytes("leaseTerm");
    private static final byte[] K_NEXT_LEASE = bytes("nextLease");
    private static final byte[] K_REGION = bytes("region");

    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final LRUCache cache;
    private final RocksDB db;
    private final ColumnFamilyHandle data;
    private final ColumnFamilyHandle meta;
    private final ColumnFamilyHandle leases;
    private final ColumnFamilyHandle journal;
    /** Null in a read-only state opened from a copy made before the index existed. */
    private final ColumnFamilyHandle leaseKeys;
    private final WriteOptions writeOptions;
    /** Bytes the journal may hold before its oldest entries go unarchived; 0 keeps no journal. */
    private final long journalBudget;

    // In memory, rebuilt from the DB on open; changed only by apply().
    private volatile long appliedTerm;
    private volatile long appliedIndex;
    private volatile long revision;
    private long clock;
    private long leaseTerm;
    private long nextLease;
    private final Map<Long, LeaseState> leaseTable = new HashMap<>();
    private volatile long archivedIndex;
    private volatile RegionState region = RegionState.SOLO;
    private volatile long journalFirst = -1;
    private volatile long journalLast = -1;
    private long journalBytes;
    private volatile long journalDropped;

    record LeaseState(long ttlMillis, long deadline) {
    }

    /** What one log entry changed, for the replies and the watchers. */
    record Applied(List<WriteResult> results, List<WatchEvent> events) {
    }

    private KvState(DBOptions dbOptions, ColumnFamilyOptions cfOptions, LRUCache cache, RocksDB db,
                    List<ColumnFamilyHandle> handles, long journalBudget) {
        this.dbOptions = dbOptions;
        this.cfOptions = cfOptions;
        this.cache = cache;
        this.db = db;
        this.data = handles.get(0);
        this.meta = handles.get(1);
        this.leases = handles.get(2);
        this.journal = handles.get(3);
        this.leaseKeys = handles.size() > 4 ? handles.get(4) : null;
        this.journalBudget = journalBudget;
        // The Raft log is fsynced and replays whatever the WAL lost, so RocksDB need not sync.
        this.writeOptions = new WriteOptions().setSync(false);
    }

    /**
     * Opens (creating if missing) the state in {@code dir}. With {@code verify}, every table file's
     * checksums are read first, so a corrupted file stops the start instead of serving wrong data.
     */
    static KvState open(Path dir, boolean verify) throws RocksDBException {
        return open(dir, verify, 0);
    }

    /**
     * Like {@link #open(Path, boolean)}, keeping a journal of applied entries of at most
     * {@code journalBudget} bytes (0: none) for the backup archive.
     */
    static KvState open(Path dir, boolean verify, long journalBudget) throws RocksDBException {
        return open(dir, verify, journalBudget, false);
    }

    /**
     * Opens a state read-only: nothing in {@code dir} changes, so its files can be copied while it is
     * read (a backup snapshot reads its checkpoint's content while uploading its files).
     */
    static KvState openReadOnly(Path dir) throws RocksDBException {
        return open(dir, false, 0, true);
    }

    private static KvState open(Path dir, boolean verify, long journalBudget, boolean readOnly) throws RocksDBException {
        LRUCache cache = new LRUCache(16L * 1024 * 1024);
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions()
                .setWriteBufferSize(8L * 1024 * 1024)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache));
        DBOptions dbOptions = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setParanoidChecks(true)
                .setMaxOpenFiles(256)
                .setKeepLogFileNum(3)
                .setMaxTotalWalSize(64L * 1024 * 1024);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>(List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor(CF_META, cfOptions),
                new ColumnFamilyDescriptor(CF_LEASES, cfOptions),
                new ColumnFamilyDescriptor(CF_JOURNAL, cfOptions)));
        // Read-only, a missing family cannot be created: a copy made before the lease index opens without it.
        if (!readOnly || hasColumnFamily(dir, CF_LEASE_KEYS)) {
            descriptors.add(new ColumnFamilyDescriptor(CF_LEASE_KEYS, cfOptions));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        RocksDB db;
        try {
            db = readOnly ? RocksDB.openReadOnly(dbOptions, dir.toString(), descriptors, handles)
                    : RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            dbOptions.close();
            cfOptions.close();
            cache.close();
            throw e;
        }
        KvState state = new KvState(dbOptions, cfOptions, cache, db, handles, journalBudget);
        try {
            if (verify) {
                db.verifyChecksum();
            }
            state.load(readOnly);
        } catch (RocksDBException | RuntimeException e) {
            state.close();
            throw e;
        }
        return state;
    }

    private static boolean hasColumnFamily(Path dir, byte[] name) throws RocksDBException {
        try (org.rocksdb.Options options = new org.rocksdb.Options()) {
            return RocksDB.listColumnFamilies(options, dir.toString()).stream().anyMatch(f -> java.util.Arrays.equals(f, name));
        }
    }

    private void load(boolean readOnly) throws RocksDBException {
        byte[] applied = db.get(meta, K_APPLIED);
        if (applied != null) {
            ByteBuffer b = ByteBuffer.wrap(applied);
            appliedTerm = b.getLong();
            appliedIndex = b.getLong();
        }
        revision = longOr(db.get(meta, K_REVISION), 0);
        clock = longOr(db.get(meta, K_CLOCK), 0);
        leaseTerm = longOr(db.get(meta, K_LEASE_TERM), 0);
        nextLease = longOr(db.get(meta, K_NEXT_LEASE), 1);
        archivedIndex = longOr(db.get(meta, K_ARCHIVED), 0);
        byte[] regionBytes = db.get(meta, K_REGION);
        region = regionBytes == null ? RegionState.SOLO : Codec.decodeRegion(regionBytes);
        try (RocksIterator it = db.newIterator(journal)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                long index = ByteBuffer.wrap(it.key()).getLong();
                if (journalFirst < 0) {
                    journalFirst = index;
                }
                journalLast = index;
                journalBytes += it.value().length;
            }
        }
        try (RocksIterator it = db.newIterator(leases)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                ByteBuffer v = ByteBuffer.wrap(it.value());
                leaseTable.put(ByteBuffer.wrap(it.key()).getLong(), new LeaseState(v.getLong(), v.getLong()));
            }
        }
        if (!readOnly && db.get(meta, K_LEASE_INDEX) == null) {
            indexLeasedKeys();
        }
    }

    /** Builds the lease index of a state written before it existed, once, in bounded batches. */
    private void indexLeasedKeys() throws RocksDBException {
        long indexed = 0;
        try (RocksIterator it = db.newIterator(data)) {
            WriteBatch wb = new WriteBatch();
            try {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    long lease = ByteBuffer.wrap(it.value()).getLong(24);
                    if (lease != 0) {
                        wb.put(leaseKeys, leaseKey(lease, it.key()), NOTHING);
                        if (++indexed % 10_000 == 0) {
                            db.write(writeOptions, wb);
                            wb.close();
                            wb = new WriteBatch();
                        }
                    }
                }
                wb.put(meta, K_LEASE_INDEX, longBytes(1));
                db.write(writeOptions, wb);
            } finally {
                wb.close();
            }
        }
        db.flushWal(true);
    }

    private static byte[] leaseKey(long lease, byte[] key) {
        return ByteBuffer.allocate(8 + key.length).putLong(lease).put(key).array();
    }

    /** The keys lease {@code lease} holds on disk, in key order. */
    private List<String> leasedKeys(long lease) {
        List<String> keys = new ArrayList<>();
        byte[] from = longBytes(lease);
        try (org.rocksdb.Slice upper = new org.rocksdb.Slice(longBytes(lease + 1));
             ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
             RocksIterator it = db.newIterator(leaseKeys, ro)) {
            for (it.seek(from); it.isValid(); it.next()) {
                byte[] k = it.key();
                keys.add(new String(k, 8, k.length - 8, StandardCharsets.UTF_8));
            }
        }
        return keys;
    }

    long appliedTerm() {
        return appliedTerm;
    }

    long appliedIndex() {
        return appliedIndex;
    }

    long revision() {
        return revision;
    }

    /** The region's disaster-recovery role as of the applied index. */
    RegionState region() {
        return region;
    }

    /** The earliest lease deadline on the replicated clock, or {@code Long.MAX_VALUE}. */
    synchronized long earliestLeaseDeadline() {
        return leaseTable.values().stream().mapToLong(LeaseState::deadline).min().orElse(Long.MAX_VALUE);
    }

    // ---------------------------------------------------------------------------------------------
    // Apply

    /**
     * Applies one log entry's commands in order and persists them, with the entry's position, in one
     * atomic write.
     */
    synchronized Applied apply(long term, long index, long leaderTime, List<WriteCmd> cmds) throws RocksDBException {
        return apply(term, index, leaderTime, cmds, null);
    }

    /**
     * Like {@link #apply(long, long, long, List)}; with a journal, {@code logData} (the entry as it is
     * in the log) is kept in it, in the same write.
     */
    synchronized Applied apply(long term, long index, long leaderTime, List<WriteCmd> cmds, byte[] logData) throws RocksDBException {
        Batch batch = new Batch();
        if (batch.region.takesWrites()) {
            advanceClock(batch, term, leaderTime);
        }
        // A standby's own entries carry its clock and terms, not the source's: they must not touch the
        // leases or the clock, or its state would drift from the source's.
        List<WriteResult> results = new ArrayList<>(cmds.size());
        for (WriteCmd cmd : cmds) {
            if (cmd.isClientWrite() && !batch.region.takesWrites()) {
                results.add(WriteResult.readOnly(batch.region.readOnlyReason()));
                continue;
            }
            results.add(switch (cmd.type()) {
                case COMMIT -> commit(batch, cmd);
                case GRANT_LEASE -> grant(batch, cmd);
                case KEEP_ALIVE -> keepAlive(batch, cmd);
                case REVOKE_LEASE -> revoke(batch, cmd.leaseId(), WatchEvent.Cause.LEASE_REVOKED);
                case TICK -> WriteResult.ok(revision, false);
                case ARCHIVED -> WriteResult.ok(batch.revision, false);
                case REPLAY -> replay(batch, cmd.replayed());
                case REGION_ROLE -> changeRole(batch, term, leaderTime, cmd.region());
            });
        }
        long archiveUpTo = cmds.stream().filter(c -> c.type() == WriteCmd.Type.ARCHIVED)
                .mapToLong(WriteCmd::archivedIndex).max().orElse(0);
        try (WriteBatch wb = new WriteBatch()) {
            for (Map.Entry<String, byte[]> e : batch.data.entrySet()) {
                byte[] key = bytes(e.getKey());
                if (e.getValue() == null) {
                    wb.delete(data, key);
                } else {
                    wb.put(data, key, e.getValue());
                }
            }
            for (long dropped : batch.indexDropped) {
                wb.deleteRange(leaseKeys, longBytes(dropped), longBytes(dropped + 1));
            }
            for (Map.Entry<Long, Set<String>> e : batch.indexRemoved.entrySet()) {
                for (String key : e.getValue()) {
                    wb.delete(leaseKeys, leaseKey(e.getKey(), bytes(key)));
                }
            }
            for (Map.Entry<Long, Set<String>> e : batch.indexAdded.entrySet()) {
                for (String key : e.getValue()) {
                    wb.put(leaseKeys, leaseKey(e.getKey(), bytes(key)), NOTHING);
                }
            }
            for (Map.Entry<Long, LeaseState> e : batch.leases.entrySet()) {
                byte[] key = ByteBuffer.allocate(8).putLong(0, e.getKey()).array();
                if (e.getValue() == null) {
                    wb.delete(leases, key);
                } else {
                    wb.put(leases, key, ByteBuffer.allocate(16).putLong(e.getValue().ttlMillis()).putLong(e.getValue().deadline()).array());
                }
            }
            wb.put(meta, K_APPLIED, ByteBuffer.allocate(16).putLong(term).putLong(index).array());
            wb.put(meta, K_REVISION, longBytes(batch.revision));
            wb.put(meta, K_CLOCK, longBytes(clock));
            wb.put(meta, K_LEASE_TERM, longBytes(leaseTerm));
            wb.put(meta, K_NEXT_LEASE, longBytes(nextLease));
            if (batch.region != region) {
                wb.put(meta, K_REGION, Codec.encodeRegion(batch.region));
            }
            boolean bookkeeping = cmds.stream().allMatch(c -> c.type() == WriteCmd.Type.ARCHIVED);
            long journaled = journal(wb, term, index, batch.revision, logData, bookkeeping);
            Trim trim = archiveUpTo > archivedIndex ? trimJournal(wb, archiveUpTo) : null;
            if (trim != null) {
                wb.put(meta, K_ARCHIVED, longBytes(archiveUpTo));
            }
            db.write(writeOptions, wb);
            journalWritten(index, journaled);
            if (trim != null) {
                trimmed(trim);
                archivedIndex = archiveUpTo;
            }
        }
        appliedTerm = term;
        appliedIndex = index;
        revision = batch.revision;
        region = batch.region;
        keepJournalInBudget();
        return new Applied(results, batch.events);
    }

    /** The entry's time moves the replicated clock (never back), and leases that ran out expire. */
    private void advanceClock(Batch batch, long term, long leaderTime) throws RocksDBException {
        clock = Math.max(clock, leaderTime);
        if (term > leaseTerm) {
            // A new leader cannot know when its predecessor last renewed a lease: give every lease its
            // full time again rather than expire one that a client was renewing.
            leaseTerm = term;
            renewAllLeases(batch);
        }
        expireLeases(batch);
    }

    private void renewAllLeases(Batch batch) {
        for (Map.Entry<Long, LeaseState> e : leaseTable.entrySet()) {
            LeaseState renewed = new LeaseState(e.getValue().ttlMillis(), Math.max(e.getValue().deadline(), clock + e.getValue().ttlMillis()));
            e.setValue(renewed);
            batch.putLease(e.getKey(), renewed);
        }
    }

    /**
     * Applies one entry of the source cluster exactly as its replicas did (its time, its term for the
     * leases), once and in order: an entry already applied is skipped, a gap refused.
     */
    private WriteResult replay(Batch batch, WriteCmd.Replayed entry) throws RocksDBException {
        RegionState r = batch.region;
        if (!r.replays()) {
            return WriteResult.readOnly("this region is not a standby (" + r.role() + "): it replays no other cluster's entries");
        }
        if (entry == null || entry.logData() == null) {
            return WriteResult.invalid("a replayed entry without its data");
        }
        if (!entry.cluster().equals(r.sourceCluster())) {
            return WriteResult.invalid("entry of cluster " + entry.cluster() + ", but this standby follows cluster " + r.sourceCluster());
        }
        if (entry.index() <= r.sourceIndex()) {
            return WriteResult.ok(batch.revision, false);
        }
        if (entry.index() != r.sourceIndex() + 1) {
            return WriteResult.invalid("entry " + entry.index() + " of cluster " + entry.cluster() + " does not follow the last one applied, "
                    + r.sourceIndex());
        }
        long time = r.sourceTime();
        RegionState.Role sourceRole = r.sourceRole() == null ? RegionState.Role.SOLO : r.sourceRole();
        if (entry.logData().length > 0) {
            var logData = org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(entry.logData());
            time = Codec.logEntryTime(logData);
            boolean sourceTookWrites = sourceRole == RegionState.Role.SOLO || sourceRole == RegionState.Role.PRIMARY;
            if (sourceTookWrites) {
                advanceClock(batch, entry.term(), time);
            }
            for (WriteCmd cmd : Codec.logEntryCommands(logData)) {
                if (cmd.isClientWrite() && sourceRole != RegionState.Role.SOLO && sourceRole != RegionState.Role.PRIMARY) {
                    continue;
                }
                switch (cmd.type()) {
                    case COMMIT -> commit(batch, cmd);
                    case GRANT_LEASE -> grant(batch, cmd);
                    case KEEP_ALIVE -> keepAlive(batch, cmd);
                    case REVOKE_LEASE -> revoke(batch, cmd.leaseId(), WatchEvent.Cause.LEASE_REVOKED);
                    // The source's own archive position is about the source, not this region.
                    case TICK, ARCHIVED -> { }
                    case REGION_ROLE -> sourceRole = cmd.region() == null ? sourceRole : cmd.region().role();
                    case REPLAY -> {
                        // Seeds come from snapshots the source took after its own promotion, so this
                        // never happens unless the seed was wrong: stop rather than guess.
                        batch.region = r.diverged("entry " + entry.index() + " of cluster " + entry.cluster()
                                + " replays another cluster's entry: seed this standby from a snapshot the source took as a primary");
                        return WriteResult.invalid(batch.region.divergence());
                    }
                }
            }
        }
        RegionState next = r.replayed(sourceRole, entry.term(), entry.index(), batch.revision, time);
        if (batch.revision != entry.revision() && r.divergence() == null) {
            next = next.diverged("after entry " + entry.index() + " of cluster " + entry.cluster() + " the revision is " + batch.revision
                    + ", the source's was " + entry.revision());
        }
        batch.region = next;
        return WriteResult.ok(batch.revision, false);
    }

    /**
     * Changes the region's role. Epochs never go back; a promotion gives every lease its full time again
     * (this region's leader cannot know when the source last renewed one) and starts the lease term anew.
     */
    private WriteResult changeRole(Batch batch, long term, long leaderTime, RegionState wanted) {
        RegionState r = batch.region;
        if (wanted == null) {
            return WriteResult.invalid("a role change without a role");
        }
        if (wanted.epoch() < r.epoch()) {
            return WriteResult.invalid("epoch " + wanted.epoch() + " is older than this region's epoch " + r.epoch());
        }
        boolean allowed = switch (wanted.role()) {
            case PRIMARY -> r.role() == RegionState.Role.SOLO || r.role() == RegionState.Role.PRIMARY || r.replays();
            case PROMOTING -> r.replays();
            case STANDBY -> r.role() == RegionState.Role.PROMOTING || r.role() == RegionState.Role.STANDBY;
            case DEMOTED -> r.role() != RegionState.Role.STANDBY && r.role() != RegionState.Role.PROMOTING;
            case SOLO -> r.role() == RegionState.Role.SOLO;
        };
        if (!allowed) {
            return WriteResult.invalid("a region that is " + r.role() + " cannot become " + wanted.role());
        }
        if (r.divergence() != null && wanted.role() == RegionState.Role.PRIMARY && r.replays()) {
            return WriteResult.invalid("this standby diverged from its source (" + r.divergence() + "); it cannot be promoted");
        }
        if (wanted.role() == RegionState.Role.PRIMARY && r.replays()) {
            clock = Math.max(clock, leaderTime);
            leaseTerm = term;
            renewAllLeases(batch);
        }
        batch.region = r.withRole(wanted.role(), wanted.epoch(), wanted.primary());
        return WriteResult.ok(batch.revision, false);
    }

    /** Marks a log entry that changes no data (a configuration or leader no-op entry) as applied. */
    synchronized void applyEmpty(long term, long index) throws RocksDBException {
        try (WriteBatch wb = new WriteBatch()) {
            wb.put(meta, K_APPLIED, ByteBuffer.allocate(16).putLong(term).putLong(index).array());
            long journaled = journal(wb, term, index, revision, new byte[0], true);
            db.write(writeOptions, wb);
            journalWritten(index, journaled);
        }
        appliedTerm = term;
        appliedIndex = index;
        keepJournalInBudget();
    }

    // ---------------------------------------------------------------------------------------------
    // Journal: the applied log, kept until the backup archive has it

    private long journal(WriteBatch wb, long term, long index, long revisionAfter, byte[] logData, boolean bookkeeping)
            throws RocksDBException {
        if (journalBudget <= 0 || logData == null) {
            return -1;
        }
        byte[] value = ByteBuffer.allocate(25 + logData.length).putLong(term).putLong(revisionAfter).putLong(clock)
                .put((byte) (bookkeeping ? 1 : 0)).put(logData).array();
        wb.put(journal, longBytes(index), value);
        return value.length;
    }

    private void journalWritten(long index, long bytes) {
        if (bytes < 0) {
            return;
        }
        if (journalFirst < 0) {
            journalFirst = index;
        }
        journalLast = index;
        journalBytes += bytes;
    }

    /** Journal entries deleted in a batch not yet written: what to forget once it is. */
    private record Trim(long freedBytes, long lastIndex) {
    }

    /** Deletes the journal up to {@code upTo} (inclusive) in {@code wb}; sizes are read first to keep the budget exact. */
    private Trim trimJournal(WriteBatch wb, long upTo) throws RocksDBException {
        long freed = 0;
        long last = -1;
        try (RocksIterator it = db.newIterator(journal)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                long index = ByteBuffer.wrap(it.key()).getLong();
                if (index > upTo) {
                    break;
                }
                freed += it.value().length;
                last = index;
            }
        }
        if (last >= 0) {
            wb.deleteRange(journal, longBytes(0), longBytes(last + 1));
        }
        return new Trim(freed, last);
    }

    private void trimmed(Trim t) {
        journalBytes -= t.freedBytes();
        if (t.lastIndex() >= 0) {
            if (t.lastIndex() >= journalLast) {
                journalFirst = -1;
                journalLast = -1;
            } else {
                journalFirst = t.lastIndex() + 1;
            }
        }
    }

    /**
     * Over budget (the archive has been away too long), the oldest entries go: the region never stops
     * for its backups. The archiver sees the break when the entries it needs are gone.
     */
    private void keepJournalInBudget() throws RocksDBException {
        if (journalBudget <= 0 || journalBytes <= journalBudget || journalFirst < 0) {
            return;
        }
        long target = journalBudget - journalBudget / 10;
        long freed = 0;
        long last = -1;
        try (RocksIterator it = db.newIterator(journal)) {
            for (it.seekToFirst(); it.isValid() && journalBytes - freed > target; it.next()) {
                freed += it.value().length;
                last = ByteBuffer.wrap(it.key()).getLong();
            }
        }
        if (last >= 0) {
            try (WriteBatch wb = new WriteBatch()) {
                Trim trim = trimJournal(wb, last);
                db.write(writeOptions, wb);
                trimmed(trim);
            }
            journalDropped = Math.max(journalDropped, last);
        }
    }

    /** The journal from {@code fromIndex}: at most {@code maxEntries} entries and about {@code maxBytes}. */
    JournalRead readJournal(long fromIndex, int maxEntries, long maxBytes) {
        List<JournalEntry> entries = new ArrayList<>();
        long first = journalFirst;
        long bytes = 0;
        try (RocksIterator it = db.newIterator(journal)) {
            for (it.seek(longBytes(Math.max(0, fromIndex))); it.isValid() && entries.size() < maxEntries; it.next()) {
                ByteBuffer v = ByteBuffer.wrap(it.value());
                long term = v.getLong();
                long rev = v.getLong();
                long clk = v.getLong();
                boolean bookkeeping = v.get() == 1;
                byte[] logData = new byte[v.remaining()];
                v.get(logData);
                long index = ByteBuffer.wrap(it.key()).getLong();
                long time = logData.length >= Long.BYTES ? Math.max(clk, ByteBuffer.wrap(logData).getLong()) : clk;
                entries.add(new JournalEntry(term, index, rev, time, logData, bookkeeping));
                bytes += logData.length + 32;
                if (bytes >= maxBytes) {
                    break;
                }
            }
        }
        return new JournalRead(first, journalLast, entries);
    }

    long archivedIndex() {
        return archivedIndex;
    }

    long journalBytes() {
        return journalBytes;
    }

    /** The highest index this replica dropped from its journal unarchived to stay in budget (0: none). */
    long journalDropped() {
        return journalDropped;
    }

    /**
     * Takes a checkpoint while no entry is being applied, so the position returned is exactly the
     * checkpoint's.
     */
    synchronized StatePosition checkpointAt(Path target) throws RocksDBException {
        checkpoint(target);
        return new StatePosition(appliedTerm, appliedIndex, revision, clock);
    }

    /**
     * Makes this state the start of a new cluster: its log starts again at index 0, so the applied
     * position, the lease term and the archive position go back to zero and the journal goes. Data,
     * leases, revision and clock stay.
     */
    synchronized void rebase() throws RocksDBException {
        rebase(RegionState.SOLO, 0);
    }

    /**
     * Makes this state, which is cluster {@code sourceCluster}'s at its applied position, the start of a
     * new cluster that follows that one as a standby. The lease term stays the source's, so that
     * replaying the source's next entries renews and expires leases exactly as its replicas did.
     */
    synchronized void rebaseAsStandby(String primary, long epoch, String sourceCluster) throws RocksDBException {
        if (region.replays()) {
            throw new StoreException("this state was a standby's (of cluster " + region.sourceCluster()
                    + ") when it was taken; seed a standby from a snapshot its source took as a primary");
        }
        rebase(RegionState.standby(primary, epoch, sourceCluster, region.role(), new StatePosition(appliedTerm, appliedIndex, revision, clock)),
                leaseTerm);
    }

    private void rebase(RegionState newRegion, long newLeaseTerm) throws RocksDBException {
        try (WriteBatch wb = new WriteBatch()) {
            wb.put(meta, K_APPLIED, ByteBuffer.allocate(16).putLong(0).putLong(0).array());
            wb.put(meta, K_REGION, Codec.encodeRegion(newRegion));
            wb.put(meta, K_LEASE_TERM, longBytes(newLeaseTerm));
            wb.put(meta, K_ARCHIVED, longBytes(0));
            wb.deleteRange(journal, longBytes(0), longBytes(Long.MAX_VALUE));
            db.write(writeOptions, wb);
        }
        appliedTerm = 0;
        appliedIndex = 0;
        leaseTerm = newLeaseTerm;
        region = newRegion;
        archivedIndex = 0;
        journalFirst = -1;
        journalLast = -1;
        journalBytes = 0;
        db.flushWal(true);
    }

    long clock() {
        return clock;
    }

    /** How many keys the data holds. */
    long keyCount() {
        long n = 0;
        try (RocksIterator it = db.newIterator(data)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                n++;
            }
        }
        return n;
    }

    private WriteResult commit(Batch batch, WriteCmd cmd) throws RocksDBException {
        for (WriteCmd.OpDto op : cmd.ops()) {
            if (op.key() == null || op.key().isEmpty() || (op.put() && op.value() == null)) {
                return WriteResult.invalid("malformed operation");
            }
            if (op.leaseId() != 0 && !leaseTable.containsKey(op.leaseId())) {
                return WriteResult.leaseNotFound(op.leaseId());
            }
        }
        Map<String, Record> current = new HashMap<>();
        for (WriteCmd.OpDto op : cmd.ops()) {
            Record rec = batch.read(op.key());
            long currentRevision = rec == null ? 0 : rec.modRevision;
            if (!op.expectation().holdsFor(currentRevision)) {
                return WriteResult.conflict(op.key(), currentRevision);
            }
            current.put(op.key(), rec);
        }
        boolean anyChange = cmd.ops().stream().anyMatch(op -> op.put() || current.get(op.key()) != null);
        if (!anyChange) {
            return WriteResult.ok(batch.revision, false);
        }
        long rev = ++batch.revision;
        boolean deleted = false;
        for (WriteCmd.OpDto op : cmd.ops()) {
            Record old = current.get(op.key());
            if (op.put()) {
                Record rec = new Record(old == null ? rev : old.createRevision, rev, old == null ? 1 : old.version + 1,
                        op.leaseId(), op.value());
                batch.write(op.key(), rec);
                relinkLease(batch, op.key(), old == null ? 0 : old.leaseId, op.leaseId());
                batch.events.add(new WatchEvent(WatchEvent.Type.PUT, rec.toKeyValue(op.key()), rev, WatchEvent.Cause.CLIENT));
            } else if (old != null) {
                batch.write(op.key(), null);
                relinkLease(batch, op.key(), old.leaseId, 0);
                batch.events.add(new WatchEvent(WatchEvent.Type.DELETE, old.toKeyValue(op.key()), rev, WatchEvent.Cause.CLIENT));
                deleted = true;
            }
        }
        return WriteResult.ok(rev, deleted);
    }

    private void relinkLease(Batch batch, String key, long oldLease, long newLease) {
        if (oldLease == newLease) {
            return;
        }
        if (oldLease != 0) {
            Set<String> added = batch.indexAdded.get(oldLease);
            if (added == null || !added.remove(key)) {
                batch.indexRemoved.computeIfAbsent(oldLease, l -> new HashSet<>()).add(key);
            }
        }
        if (newLease != 0) {
            Set<String> removed = batch.indexRemoved.get(newLease);
            if (removed != null) {
                removed.remove(key);
            }
            batch.indexAdded.computeIfAbsent(newLease, l -> new LinkedHashSet<>()).add(key);
        }
    }

    private WriteResult grant(Batch batch, WriteCmd cmd) {
        if (cmd.ttlMillis() <= 0) {
            return WriteResult.invalid("lease ttl must be positive");
        }
        long id = nextLease++;
        LeaseState lease = new LeaseState(cmd.ttlMillis(), clock + cmd.ttlMillis());
        leaseTable.put(id, lease);
        batch.putLease(id, lease);
        return WriteResult.lease(id, cmd.ttlMillis(), true);
    }

    private WriteResult keepAlive(Batch batch, WriteCmd cmd) {
        LeaseState lease = leaseTable.get(cmd.leaseId());
        if (lease == null) {
            return WriteResult.leaseNotFound(cmd.leaseId());
        }
        LeaseState renewed = new LeaseState(lease.ttlMillis(), clock + lease.ttlMillis());
        leaseTable.put(cmd.leaseId(), renewed);
        batch.putLease(cmd.leaseId(), renewed);
        return WriteResult.lease(cmd.leaseId(), lease.ttlMillis(), true);
    }

    private WriteResult revoke(Batch batch, long leaseId, WatchEvent.Cause cause) throws RocksDBException {
        LeaseState lease = leaseTable.remove(leaseId);
        if (lease == null) {
            return WriteResult.leaseNotFound(leaseId);
        }
        batch.putLease(leaseId, null);
        Set<String> keys = new LinkedHashSet<>(leasedKeys(leaseId));
        keys.removeAll(batch.indexRemoved.getOrDefault(leaseId, Set.of()));
        keys.addAll(batch.indexAdded.getOrDefault(leaseId, Set.of()));
        batch.indexDropped.add(leaseId);
        batch.indexAdded.remove(leaseId);
        batch.indexRemoved.remove(leaseId);
        if (!keys.isEmpty()) {
            long rev = ++batch.revision;
            for (String key : keys) {
                Record old = batch.read(key);
                if (old != null) {
                    batch.write(key, null);
                    batch.events.add(new WatchEvent(WatchEvent.Type.DELETE, old.toKeyValue(key), rev, cause));
                }
            }
        }
        return WriteResult.lease(leaseId, lease.ttlMillis(), true);
    }

    private void expireLeases(Batch batch) throws RocksDBException {
        List<Long> expired = leaseTable.entrySet().stream()
                .filter(e -> e.getValue().deadline() <= clock)
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
        for (long id : expired) {
            revoke(batch, id, WatchEvent.Cause.LEASE_EXPIRED);
        }
    }

    /** The changes of one log entry, not yet written; reads see them before the DB. */
    private final class Batch {
        final Map<String, byte[]> data = new TreeMap<>();
        final Map<Long, LeaseState> leases = new HashMap<>();
        /** Changes to the lease index: keys newly held, keys let go, and leases whose whole index goes. */
        final Map<Long, Set<String>> indexAdded = new HashMap<>();
        final Map<Long, Set<String>> indexRemoved = new HashMap<>();
        final Set<Long> indexDropped = new java.util.TreeSet<>();
        final List<WatchEvent> events = new ArrayList<>();
        long revision = KvState.this.revision;
        RegionState region = KvState.this.region;

        Record read(String key) throws RocksDBException {
            if (data.containsKey(key)) {
                byte[] v = data.get(key);
                return v == null ? null : Record.decode(v);
            }
            byte[] v = db.get(KvState.this.data, bytes(key));
            return v == null ? null : Record.decode(v);
        }

        void write(String key, Record rec) {
            data.put(key, rec == null ? null : rec.encode());
        }

        void putLease(long id, LeaseState lease) {
            leases.put(id, lease);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Reads

    Optional<KeyValue> get(String key) {
        try {
            byte[] v = db.get(data, bytes(key));
            return v == null ? Optional.empty() : Optional.of(Record.decode(v).toKeyValue(key));
        } catch (RocksDBException e) {
            throw new StoreException("read of '" + key + "' failed: " + e.getMessage(), e);
        }
    }

    /** Keys with {@code prefix} after {@code startAfter}, at most {@code limit}, and whether more follow. */
    QueryResult scan(String prefix, String startAfter, int limit) {
        byte[] prefixBytes = bytes(prefix);
        List<KeyValue> items = new ArrayList<>();
        boolean more = false;
        try (ReadOptions ro = new ReadOptions(); RocksIterator it = db.newIterator(data, ro)) {
            long rev = revision;
            byte[] start = startAfter.isEmpty() || startAfter.compareTo(prefix) < 0 ? prefixBytes : bytes(startAfter);
            for (it.seek(start); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (!startsWith(key, prefixBytes)) {
                    break;
                }
                String k = new String(key, StandardCharsets.UTF_8);
                if (!startAfter.isEmpty() && k.equals(startAfter)) {
                    continue;
                }
                if (items.size() == limit) {
                    more = true;
                    break;
                }
                items.add(Record.decode(it.value()).toKeyValue(k));
            }
            String last = items.isEmpty() ? startAfter : items.getLast().key();
            return new QueryResult(items, more, rev, more ? last : "", null);
        }
    }

    /**
     * A digest of the replicated state (data, leases, revision): two replicas that applied the same
     * log prefix have the same digest.
     */
    String digest() {
        return summary().digest();
    }

    /** The digest and the number of keys, in one pass over the data. */
    record Summary(String digest, long keys) {
    }

    /** A digest together with the exact log position and revision it covers. */
    record PositionedDigest(long appliedTerm, long appliedIndex, long revision, String digest) {
    }

    /**
     * The digest of the state at one applied entry, with that entry's index and the revision. The
     * position is read and a RocksDB snapshot taken while no entry is being applied; the data is then
     * read from that snapshot without holding up the applies. Reading the index, the revision and the
     * data at three different moments made replicas that had applied the same log look different.
     */
    PositionedDigest positionedDigest() {
        org.rocksdb.Snapshot snapshot;
        long term;
        long index;
        long rev;
        synchronized (this) {
            snapshot = db.getSnapshot();
            term = appliedTerm;
            index = appliedIndex;
            rev = revision;
        }
        try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot)) {
            return new PositionedDigest(term, index, rev, summary(ro, rev).digest());
        } finally {
            db.releaseSnapshot(snapshot);
        }
    }

    Summary summary() {
        try (ReadOptions ro = new ReadOptions()) {
            return summary(ro, revision);
        }
    }

    private Summary summary(ReadOptions ro, long rev) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long keys = 0;
            try (RocksIterator it = db.newIterator(data, ro)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    keys++;
                    sha.update(lengthPrefix(it.key()));
                    sha.update(it.key());
                    sha.update(lengthPrefix(it.value()));
                    sha.update(it.value());
                }
            }
            try (RocksIterator it = db.newIterator(leases, ro)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    sha.update(it.key());
                    sha.update(it.value());
                }
            }
            sha.update(longBytes(rev));
            return new Summary(HexFormat.of().formatHex(sha.digest()), keys);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes a consistent, openable copy of the DB to {@code target} (which must not exist). */
    void checkpoint(Path target) throws RocksDBException {
        try (Checkpoint cp = Checkpoint.create(db)) {
            cp.createCheckpoint(target.toString());
        }
    }

    @Override
    public void close() {
        writeOptions.close();
        data.close();
        meta.close();
        leases.close();
        journal.close();
        if (leaseKeys != null) {
            leaseKeys.close();
        }
        db.close();
        dbOptions.close();
        cfOptions.close();
        cache.close();
    }

    // ---------------------------------------------------------------------------------------------

    /** The stored form of a value: [createRevision][modRevision][version][leaseId][value]. */
    private record Record(long createRevision, long modRevision, long version, long leaseId, byte[] value) {
        byte[] encode() {
            return ByteBuffer.allocate(32 + value.length).putLong(createRevision).putLong(modRevision)
                    .putLong(version).putLong(leaseId).put(value).array();
        }

        static Record decode(byte[] bytes) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            return new Record(b.getLong(), b.getLong(), b.getLong(), b.getLong(), Arrays.copyOfRange(bytes, 32, bytes.length));
        }

        KeyValue toKeyValue(String key) {
            return new KeyValue(key, value, createRevision, modRevision, version, leaseId);
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static byte[] lengthPrefix(byte[] b) {
        return ByteBuffer.allocate(4).putInt(0, b.length).array();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(0, v).array();
    }

    private static long longOr(byte[] b, long dflt) {
        return b == null ? dflt : ByteBuffer.wrap(b).getLong();
    }
}
