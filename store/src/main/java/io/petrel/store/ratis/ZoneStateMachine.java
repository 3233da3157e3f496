package io.petrel.store.ratis;

import io.petrel.store.Staleness;
import io.petrel.store.StoreException;
import io.petrel.store.WatchEvent;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.LifeCycle;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The Ratis state machine of one zone: applies log entries to {@link KvState}, answers queries,
 * takes snapshots as RocksDB checkpoints and installs the ones the leader sends.
 *
 * <p>Two facts shape it (see {@code ratis-notes.md}): the live database is outside Ratis's folder,
 * because installing a snapshot replaces that folder; and the database may be ahead of the newest
 * snapshot, because it persists its applied index with every batch, so entries Ratis replays at start
 * up to that index are skipped rather than applied twice.
 */
final class ZoneStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneStateMachine.class);
    static final String DISK_FULL = "PETREL_DISK_FULL";
    static final String INVALID = "PETREL_INVALID";
    static final String READ_ONLY = "PETREL_READ_ONLY";

    private final String zone;
    private final Path liveDir;
    private final boolean verifyOnOpen;
    private final long journalBytes;
    private final DiskGuard diskGuard;
    private final LongSupplier clock;
    private final WatchHub watchHub;
    private final LongConsumer commitLatencyNanos;
    private final WriteGate writeGate;
    private final CheckpointSnapshots snapshots = new CheckpointSnapshots();
    private final ExecutorService sealer;
    /** Readers hold it shared; closing or swapping the database holds it exclusively. */
    private final ReadWriteLock dbLock = new ReentrantReadWriteLock();
    private volatile KvState state;
    private volatile Supplier<RoleInfoProto> roleInfo = () -> null;
    private volatile LongSupplier commitIndex = () -> -1;

    ZoneStateMachine(String zone, Path liveDir, boolean verifyOnOpen, long journalBytes, DiskGuard diskGuard, LongSupplier clock,
                     WatchHub watchHub, LongConsumer commitLatencyNanos, WriteGate writeGate) {
        this.zone = requireNonNull(zone, "zone");
        this.liveDir = requireNonNull(liveDir, "liveDir");
        this.verifyOnOpen = verifyOnOpen;
        this.journalBytes = journalBytes;
        this.diskGuard = requireNonNull(diskGuard, "diskGuard");
        this.clock = requireNonNull(clock, "clock");
        this.watchHub = requireNonNull(watchHub, "watchHub");
        this.commitLatencyNanos = requireNonNull(commitLatencyNanos, "commitLatencyNanos");
        this.writeGate = requireNonNull(writeGate, "writeGate");
        this.sealer = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name(zone + "-snapshot-sealer").factory());
    }

    // ---------------------------------------------------------------------------------------------
    // Lifecycle

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
        super.initialize(server, groupId, storage);
        snapshots.init(storage);
        getLifeCycle().startAndTransition(() -> {
            openLiveState(false);
            RaftServer.Division division = server.getDivision(groupId);
            roleInfo = () -> division.getInfo().getRoleInfoProto();
            commitIndex = () -> division.getRaftLog().getLastCommittedIndex();
        }, IOException.class);
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return snapshots;
    }

    @Override
    public void pause() {
        // Ratis asserts PAUSED before it reloads us; skipping this turns a follower into a zombie.
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    @Override
    public void reinitialize() throws IOException {
        // Called after Ratis installed a snapshot from the leader into the state machine folder.
        getLifeCycle().transition(LifeCycle.State.STARTING);
        snapshots.invalidate();
        openLiveState(true);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
        watchHub.publish(List.of(new WatchEvent(WatchEvent.Type.RESET, null, state.revision(), WatchEvent.Cause.SNAPSHOT)));
    }

    /**
     * Opens the live database, first replacing it with the newest snapshot if it is missing or older
     * than that snapshot (always so after an installation). Sets the applied index Ratis starts from.
     */
    private void openLiveState(boolean installed) throws IOException {
        var latest = snapshots.latest();
        if (latest.isPresent() && !CheckpointSnapshots.isSealed(latest.get().path())) {
            // Taken by this replica, which stopped before writing its checksums.
            CheckpointSnapshots.seal(latest.get().path());
            LOG.info("zone {}: snapshot {} sealed with checksums on start", zone, latest.get().path().getFileName());
        }
        if (latest.isPresent() && (installed || verifyOnOpen)) {
            CheckpointSnapshots.verify(latest.get().path());
        }
        dbLock.writeLock().lock();
        try {
            closeState();
            cleanupSwapLeftovers();
            KvState opened = Files.exists(liveDir) ? openDb(liveDir) : null;
            if (latest.isPresent() && (opened == null || opened.appliedIndex() < latest.get().index())) {
                if (opened != null) {
                    opened.close();
                }
                restoreFrom(latest.get().path());
                opened = openDb(liveDir);
                LOG.info("zone {}: live state restored from snapshot {} (term {}, index {})",
                        zone, latest.get().path().getFileName(), latest.get().term(), latest.get().index());
            } else if (opened == null) {
                opened = openDb(liveDir);
            }
            state = opened;
            TermIndex from = latest.map(CheckpointSnapshots.Snapshot::termIndex).orElse(null);
            if (from != null) {
                setLastAppliedTermIndex(from);
            }
            LOG.info("zone {}: state open at applied index {} (term {}), revision {}; Ratis resumes after {}",
                    zone, opened.appliedIndex(), opened.appliedTerm(), opened.revision(), from == null ? "the start" : from);
        } finally {
            dbLock.writeLock().unlock();
        }
    }

    private KvState openDb(Path dir) throws IOException {
        try {
            return KvState.open(dir, verifyOnOpen, journalBytes);
        } catch (RocksDBException e) {
            throw new IOException("cannot open the store database in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Builds a new live folder from a snapshot: hard links for immutable table files, copies for the rest. */
    private void restoreFrom(Path snapshot) throws IOException {
        Path fresh = liveDir.resolveSibling(liveDir.getFileName() + ".restoring");
        CheckpointSnapshots.deleteRecursively(fresh);
        Files.createDirectories(fresh);
        for (Path file : CheckpointSnapshots.dataFiles(snapshot)) {
            Path target = fresh.resolve(file.getFileName());
            if (file.getFileName().toString().endsWith(".sst")) {
                try {
                    Files.createLink(target, file);
                    continue;
                } catch (IOException | UnsupportedOperationException e) {
                    LOG.debug("hard link failed, copying {}", file);
                }
            }
            Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path old = liveDir.resolveSibling(liveDir.getFileName() + ".old");
        if (Files.exists(liveDir)) {
            Files.move(liveDir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(fresh, liveDir, StandardCopyOption.ATOMIC_MOVE);
        CheckpointSnapshots.deleteRecursively(old);
    }

    private void cleanupSwapLeftovers() throws IOException {
        CheckpointSnapshots.deleteRecursively(liveDir.resolveSibling(liveDir.getFileName() + ".restoring"));
        Path old = liveDir.resolveSibling(liveDir.getFileName() + ".old");
        if (Files.exists(old) && !Files.exists(liveDir)) {
            // A crash between the two renames: the old state is still whole, put it back.
            Files.move(old, liveDir, StandardCopyOption.ATOMIC_MOVE);
        }
        CheckpointSnapshots.deleteRecursively(old);
    }

    private void closeState() {
        KvState s = state;
        state = null;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public void close() throws IOException {
        sealer.shutdown();
        try {
            if (!sealer.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("zone {}: snapshot checksums still being written at close; they are written on the next start", zone);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dbLock.writeLock().lock();
        try {
            closeState();
        } finally {
            dbLock.writeLock().unlock();
        }
        super.close();
    }

    // ---------------------------------------------------------------------------------------------
    // Writes

    /**
     * On the leader: refuse what cannot be applied, and stamp the leader's clock into the entry. A
     * refusal goes back in the context (never thrown), so that Ratis answers the client at once with
     * the reason instead of leaving its retries waiting.
     */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) {
        TransactionContext.Builder trx = TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
        List<WriteCmd> cmds;
        try {
            diskGuard.check();
            cmds = Codec.decodeWriteRequest(request.getMessage().getContent());
            if (cmds.stream().anyMatch(WriteCmd::isClientWrite)) {
                KvState s = state;
                RegionState region = s == null ? RegionState.SOLO : s.region();
                if (!region.takesWrites() && cmds.stream().allMatch(WriteCmd::isClientWrite)) {
                    // Applying would refuse each of them anyway; spare the log an entry.
                    return trx.build().setException(new IOException(READ_ONLY + ": " + region.readOnlyReason()));
                }
                var refusal = writeGate.refusal(region);
                if (refusal.isPresent()) {
                    return trx.build().setException(new IOException(READ_ONLY + ": " + refusal.get()));
                }
            }
        } catch (Codec.MalformedMessageException e) {
            return trx.build().setException(new IOException(INVALID + ": " + e.getMessage()));
        } catch (IOException e) {
            return trx.build().setException(e);
        }
        // The context stays on the leader: applyTransaction times append + replicate + apply with it, and
        // applies the commands decoded here instead of decoding the entry a second time.
        return trx.setLogData(Codec.logEntry(clock.getAsLong(), request.getMessage().getContent()))
                .setStateMachineContext(new LeaderContext(System.nanoTime(), cmds)).build();
    }

    /** What the leader's {@link #startTransaction} knows of an entry that its {@link #applyTransaction} needs again. */
    private record LeaderContext(long acceptedNanos, List<WriteCmd> cmds) {
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long index = entry.getIndex();
        long term = entry.getTerm();
        KvState s = state;
        if (index <= s.appliedIndex()) {
            // Replayed at start: the database already holds this entry's effects.
            updateLastAppliedTermIndex(term, index);
            return CompletableFuture.completedFuture(Codec.writeReply(List.of()));
        }
        var logData = entry.getStateMachineLogEntry().getLogData();
        LeaderContext leader = trx.getStateMachineContext() instanceof LeaderContext c ? c : null;
        KvState.Applied applied;
        try {
            applied = s.apply(term, index, Codec.logEntryTime(logData), leader != null ? leader.cmds() : Codec.logEntryCommands(logData),
                    journalBytes > 0 ? logData.toByteArray() : null);
        } catch (RocksDBException e) {
            // A replica that cannot apply an entry must not go on and diverge: stop the process.
            LOG.error("zone {}: FATAL: cannot apply log entry {} (term {}): {}; stopping so this replica cannot diverge",
                    zone, index, term, e.getMessage(), e);
            Runtime.getRuntime().halt(70);
            throw new IllegalStateException(e);
        }
        updateLastAppliedTermIndex(term, index);
        if (leader != null) {
            commitLatencyNanos.accept(System.nanoTime() - leader.acceptedNanos());
        }
        watchHub.publish(applied.events());
        return CompletableFuture.completedFuture(Codec.writeReply(applied.results()));
    }

    @Override
    public void notifyTermIndexUpdated(long term, long index) {
        // Configuration and leader no-op entries: nothing to apply, but the position must be kept.
        KvState s = state;
        if (s != null && index > s.appliedIndex()) {
            try {
                s.applyEmpty(term, index);
            } catch (RocksDBException e) {
                LOG.error("zone {}: FATAL: cannot record applied index {}: {}", zone, index, e.getMessage(), e);
                Runtime.getRuntime().halt(70);
            }
        }
        if (index > getLastAppliedTermIndex().getIndex()) {
            updateLastAppliedTermIndex(term, index);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Snapshots

    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        KvState s = state;
        if (s == null || last == null || last.getIndex() <= 0 || s.appliedIndex() != last.getIndex()) {
            // Still replaying entries the database already has: it is ahead of what Ratis applied.
            return snapshots.latest().map(CheckpointSnapshots.Snapshot::index).orElse(-1L);
        }
        Path target = snapshots.snapshotPath(last);
        if (Files.exists(target)) {
            return last.getIndex();
        }
        long started = System.nanoTime();
        Path tmp = snapshots.dir().resolve(".tmp-" + target.getFileName());
        CheckpointSnapshots.deleteRecursively(tmp);
        dbLock.readLock().lock();
        try {
            state.checkpoint(tmp);
        } catch (RocksDBException e) {
            throw new IOException("checkpoint for snapshot " + last + " failed: " + e.getMessage(), e);
        } finally {
            dbLock.readLock().unlock();
        }
        Files.createFile(tmp.resolve(CheckpointSnapshots.UNSEALED));
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        snapshots.invalidate();
        long taken = System.nanoTime();
        LOG.info("zone {}: snapshot taken at term {} index {} in {} ms", zone, last.getTerm(), last.getIndex(),
                (taken - started) / 1_000_000);
        sealer.execute(() -> seal(target, last));
        return last.getIndex();
    }

    /** Writes a snapshot's checksums off the apply thread (see {@link CheckpointSnapshots#UNSEALED}). */
    private void seal(Path snapshot, TermIndex at) {
        long started = System.nanoTime();
        try {
            CheckpointSnapshots.seal(snapshot);
            snapshots.invalidate();
            LOG.info("zone {}: snapshot at term {} index {} sealed with checksums in {} ms", zone, at.getTerm(), at.getIndex(),
                    (System.nanoTime() - started) / 1_000_000);
        } catch (IOException | UncheckedIOException e) {
            // Deleted meanwhile by a newer snapshot or an installation; a survivor is sealed on start.
            LOG.info("zone {}: snapshot at term {} index {} not sealed: {}", zone, at.getTerm(), at.getIndex(), e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Reads

    /**
     * Answers a read. A query that cannot be answered gets an answer saying why, not a failed
     * future: Ratis's client would retry a failure until its retries run out.
     */
    @Override
    public CompletableFuture<Message> query(Message request) {
        QueryResult result;
        try {
            result = answer(Codec.decodeQuery(request.getContent()));
        } catch (Codec.MalformedMessageException e) {
            result = QueryResult.failed(INVALID + ": " + e.getMessage());
        } catch (RuntimeException e) {
            result = QueryResult.failed(e.getMessage());
        }
        return CompletableFuture.completedFuture(Codec.queryReply(result));
    }

    @Override
    public CompletableFuture<Message> queryStale(Message request, long minIndex) {
        return query(request);
    }

    /** Answers a query from this replica's applied state, with how stale that state may be. */
    QueryResult answer(Query q) {
        dbLock.readLock().lock();
        try {
            KvState s = state;
            if (s == null) {
                throw new StoreException("zone " + zone + " is installing a snapshot; try again");
            }
            Staleness staleness = staleness(s);
            return switch (q.type()) {
                case GET -> new QueryResult(s.get(q.key()).stream().toList(), false, s.revision(), null, staleness);
                case SCAN -> {
                    QueryResult page = s.scan(q.prefix(), q.startAfter() == null ? "" : q.startAfter(), q.limit());
                    yield new QueryResult(page.items(), page.more(), page.revision(), page.digest(), staleness);
                }
                case REVISION -> new QueryResult(List.of(), false, s.revision(), null, staleness);
                case DIGEST -> {
                    KvState.PositionedDigest d = s.positionedDigest();
                    yield new QueryResult(List.of(), false, d.revision(), d.digest(), new Staleness(staleness.replica(),
                            d.appliedIndex(), Math.max(staleness.knownCommitIndex(), d.appliedIndex()), staleness.millisSinceLeaderContact()));
                }
                case REGION -> new QueryResult(List.of(), false, s.revision(), null, staleness, null, s.region());
            };
        } finally {
            dbLock.readLock().unlock();
        }
    }

    Staleness staleness(KvState s) {
        RoleInfoProto role = roleInfo.get();
        long sinceLeader = -1;
        if (role != null) {
            if (role.hasLeaderInfo()) {
                sinceLeader = 0;
            } else if (role.hasFollowerInfo() && role.getFollowerInfo().getLeaderInfo().getId().getId().size() > 0) {
                sinceLeader = role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs();
            }
        }
        return new Staleness(zone, s.appliedIndex(), Math.max(commitIndex.getAsLong(), s.appliedIndex()), sinceLeader);
    }

    /** What the ticker needs to know: the earliest lease deadline and the replicated clock. */
    long earliestLeaseDeadline() {
        KvState s = state;
        return s == null ? Long.MAX_VALUE : s.earliestLeaseDeadline();
    }

    RegionState region() {
        KvState s = state;
        return s == null ? RegionState.SOLO : s.region();
    }

    long appliedRevision() {
        KvState s = state;
        return s == null ? -1 : s.revision();
    }

    CheckpointSnapshots snapshots() {
        return snapshots;
    }

    // ---------------------------------------------------------------------------------------------
    // For the backup archive

    JournalRead readJournal(long fromIndex, int maxEntries, long maxBytes) {
        dbLock.readLock().lock();
        try {
            KvState s = state;
            if (s == null) {
                throw new StoreException("zone " + zone + " is installing a snapshot; try again");
            }
            return s.readJournal(fromIndex, maxEntries, maxBytes);
        } finally {
            dbLock.readLock().unlock();
        }
    }

    long archivedIndex() {
        KvState s = state;
        return s == null ? -1 : s.archivedIndex();
    }

    long journalDropped() {
        KvState s = state;
        return s == null ? 0 : s.journalDropped();
    }

    /** A RocksDB checkpoint of the live state in {@code target} (which must not exist), with its exact position. */
    StatePosition checkpointForBackup(Path target) throws IOException {
        dbLock.readLock().lock();
        try {
            KvState s = state;
            if (s == null) {
                throw new IOException("zone " + zone + " is installing a snapshot; try again");
            }
            return s.checkpointAt(target);
        } catch (RocksDBException e) {
            throw new IOException("checkpoint for a backup failed: " + e.getMessage(), e);
        } finally {
            dbLock.readLock().unlock();
        }
    }
}
