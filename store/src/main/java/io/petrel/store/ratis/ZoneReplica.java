package io.petrel.store.ratis;

import io.petrel.store.NoQuorumException;
import io.petrel.store.Store;
import io.petrel.store.StoreLimits;
import io.petrel.store.Watch;
import io.petrel.store.WatchListener;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * One zone's voter in the region's store: a Ratis server whose state machine keeps its data in
 * RocksDB, plus a {@link Store} handle for the rest of the zone's node.
 *
 * <p>Layout of the data folder: {@code raft/} is Ratis's (log, snapshots under {@code sm/}),
 * {@code state/} is the live database.
 */
public final class ZoneReplica implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneReplica.class);
    /**
     * The largest log entry the consensus log takes: a commit of the most the store allows
     * ({@code StoreLimits.maxCommitBytes}, 8 MB) or a group of writes up to
     * {@link GroupCommitter#MAX_BYTES_PER_ENTRY}, plus the encoding's framing.
     */
    static final long MAX_LOG_ENTRY_BYTES = 10L * 1024 * 1024;
    /**
     * The fewest workers the JVM's common pool should have. Ratis runs client callbacks there, and a
     * failed request closes its channel on that thread, waiting up to 3 s for it. The pool has one
     * worker per core less one: on two cores, one. A zone whose local reads failed under load then
     * kept that worker in channel closes, and the follower work queued behind it never ran: the zone
     * stopped taking the leader's entries and never caught up. Set with
     * {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=8} (every launcher does).
     */
    public static final int MIN_COMMON_POOL_PARALLELISM = 4;

    private final ReplicaConfig config;
    private final RaftGroup group;
    private final ZoneStateMachine stateMachine;
    private final WatchHub watchHub;
    private final RaftServer server;
    private final RaftServer.Division division;
    private final RatisStore store;
    private final ScheduledExecutorService ticker;
    private volatile long lastRole = -1;
    private volatile long lastTerm = -1;
    /** When this zone last knew a leader (System.nanoTime), kept by the ticker. */
    private volatile long leaderSeenNanos = System.nanoTime();

    private final WriteGate writeGate;

    private ZoneReplica(ReplicaConfig config, LongConsumer commitLatencyNanos, WriteGate writeGate) throws IOException {
        this.config = requireNonNull(config, "config");
        this.writeGate = requireNonNull(writeGate, "writeGate");
        this.group = RatisGroup.of(config.region(), config.clusterId(), config.peers());
        Path raftDir = config.dataDir().resolve("raft");
        Path liveDir = config.dataDir().resolve("state");
        Files.createDirectories(raftDir);
        RaftLogCheck.verify(raftDir);
        this.watchHub = new WatchHub(config.zone());
        this.stateMachine = new ZoneStateMachine(config.zone(), liveDir, config.tuning().verifyOnOpen(), config.tuning().journalBytes(),
                new DiskGuard(config.dataDir(), config.tuning().diskReserveBytes()), System::currentTimeMillis, watchHub,
                commitLatencyNanos, writeGate);
        boolean fresh = isEmpty(raftDir);
        this.server = RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf(config.zone()))
                .setGroup(group)
                .setProperties(properties(config, raftDir))
                .setStateMachine(stateMachine)
                .setOption(fresh ? RaftStorage.StartupOption.FORMAT : RaftStorage.StartupOption.RECOVER)
                .build();
        server.start();
        this.division = server.getDivision(group.getGroupId());
        this.store = new RatisStore(config.zone(), group, config.tuning(), StoreLimits.DEFAULT, new Local());
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("petrel-lease-ticker").daemon().unstarted(r));
        ticker.scheduleWithFixedDelay(this::tick, 200, 200, TimeUnit.MILLISECONDS);
        LOG.info("zone {}: store voter started ({} start) at {}, peers {}", config.zone(), fresh ? "first" : "recovered",
                config.self().address(), config.peers());
        if (ForkJoinPool.getCommonPoolParallelism() < MIN_COMMON_POOL_PARALLELISM) {
            LOG.warn("zone {}: the JVM's common pool has {} worker(s); under load this zone's replica can stop following its leader. "
                    + "Start the JVM with -Djava.util.concurrent.ForkJoinPool.common.parallelism=8", config.zone(),
                    ForkJoinPool.getCommonPoolParallelism());
        }
    }

    /**
     * Starts this zone's voter. Throws, naming the file, if anything in the data folder is damaged:
     * a replica never serves data it cannot vouch for.
     */
    public static ZoneReplica start(ReplicaConfig config) throws IOException {
        return new ZoneReplica(config, nanos -> { }, WriteGate.OPEN);
    }

    /**
     * Like {@link #start(ReplicaConfig)}; while this zone leads, {@code commitLatencyNanos} is told how
     * long each log entry took from its acceptance to its application (append, replication to a
     * majority, fsync and apply).
     */
    public static ZoneReplica start(ReplicaConfig config, LongConsumer commitLatencyNanos) throws IOException {
        return new ZoneReplica(config, commitLatencyNanos, WriteGate.OPEN);
    }

    /** Like {@link #start(ReplicaConfig, LongConsumer)}, with client writes also subject to {@code writeGate}. */
    public static ZoneReplica start(ReplicaConfig config, LongConsumer commitLatencyNanos, WriteGate writeGate) throws IOException {
        return new ZoneReplica(config, commitLatencyNanos, writeGate);
    }

    private static RaftProperties properties(ReplicaConfig config, Path raftDir) {
        StoreTuning t = config.tuning();
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        GrpcConfigKeys.Server.setHost(p, config.self().host());
        GrpcConfigKeys.Server.setPort(p, config.self().port());
        RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(t.electionTimeoutMin().toMillis(), TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(t.electionTimeoutMax().toMillis(), TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, t.snapshotEveryEntries());
        RaftServerConfigKeys.Snapshot.setCreationGap(p, Math.min(1024, t.snapshotEveryEntries()));
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        // Purge the log behind every snapshot: a follower that fell further behind gets the snapshot.
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(1024, t.snapshotEveryEntries() / 2));
        SizeInBytes segment = SizeInBytes.valueOf(t.logSegmentBytes());
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, segment);
        RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(t.logSegmentBytes(), 1024 * 1024)));
        RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
        // No extra metadata entry after each commit: it doubled the entries (and fsyncs) per write.
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
        // Send new entries to followers at once; the default 10 ms pause between appends adds ~10 ms
        // to every commit (Ozone's SCM sets 0 too).
        RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.ZERO);
        RaftServerConfigKeys.RetryCache.setExpiryTime(p, TimeDuration.valueOf(120, TimeUnit.SECONDS));
        // Ratis refuses to append an entry larger than the appender's buffer (4 MB by default), failing
        // the write and every write grouped with it: a commit may hold 8 MB, and a batch of activation
        // records with logs easily passed 4 MB, so its writer retried the same refused batch for ever.
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(MAX_LOG_ENTRY_BYTES));
        RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(MAX_LOG_ENTRY_BYTES + 1024 * 1024));
        GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf("64MB"));
        return p;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    public String zone() {
        return config.zone();
    }

    /** The store as seen from this zone: follower reads here, writes through the leader. */
    public Store store() {
        return store;
    }

    /** What this zone's voter reports of itself (see {@link ReplicaStatus}). */
    public ReplicaStatus status() {
        var info = division.getInfo();
        RoleInfoProto role = info.getRoleInfoProto();
        RaftPeerId leader = info.getLeaderId();
        List<ReplicaStatus.FollowerStatus> followers = new ArrayList<>();
        if (info.isLeader() && role.hasLeaderInfo()) {
            long[] match = info.getFollowerMatchIndices();
            List<ServerRpcProto> rpcs = role.getLeaderInfo().getFollowerInfoList();
            for (int i = 0; i < rpcs.size() && i < match.length; i++) {
                followers.add(new ReplicaStatus.FollowerStatus(rpcs.get(i).getId().getId().toStringUtf8(), match[i],
                        rpcs.get(i).getLastRpcElapsedTimeMs()));
            }
        }
        ReplicaStatus.SnapshotStatus snapshot = stateMachine.snapshots().latest().map(s -> {
            long age;
            try {
                age = System.currentTimeMillis() - Files.getLastModifiedTime(s.path()).toMillis();
            } catch (IOException e) {
                age = -1;
            }
            return new ReplicaStatus.SnapshotStatus(s.term(), s.index(), age);
        }).orElse(null);
        return new ReplicaStatus(config.zone(), info.getCurrentRole().name(), leader == null ? null : leader.toString(),
                info.getCurrentTerm(), division.getRaftLog().getLastCommittedIndex(), info.getLastAppliedIndex(),
                stateMachine.appliedRevision(), snapshot, followers);
    }

    /**
     * Whether this zone can serve linearizable reads and writes now: it knows a leader and a
     * ReadIndex round through that leader completes within {@code timeout}.
     */
    public boolean ready(Duration timeout) {
        var info = division.getInfo();
        if (info.getLeaderId() == null || !(info.isLeader() || info.isFollower())) {
            return false;
        }
        try {
            return store.revisionAsync().get(timeout.toMillis(), TimeUnit.MILLISECONDS) >= 0;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** This replica's digest of its applied state, with the revision and log index it covers. */
    public RatisStore.QueryResultView digest() {
        QueryResult r = stateMachine.answer(Query.digest());
        return new RatisStore.QueryResultView(r.digest(), r.revision(), r.staleness().appliedIndex());
    }

    /** What disaster recovery reads and changes in this zone (see {@link RegionControl}). */
    public RegionControl regionControl() {
        return new Region();
    }

    /** What the backups read from this zone (see {@link BackupSource}). */
    public BackupSource backupSource() {
        return new Backups();
    }

    private void tick() {
        try {
            var info = division.getInfo();
            if (info.getLeaderId() != null) {
                leaderSeenNanos = System.nanoTime();
            }
            if (info.getCurrentTerm() != lastTerm || info.getCurrentRole().getNumber() != lastRole) {
                lastTerm = info.getCurrentTerm();
                lastRole = info.getCurrentRole().getNumber();
                LOG.info("zone {}: role {} in term {}, leader {}", config.zone(), info.getCurrentRole(), lastTerm, info.getLeaderId());
            }
            if (info.isLeader() && info.isLeaderReady() && stateMachine.region().takesWrites()
                    && stateMachine.earliestLeaseDeadline() <= System.currentTimeMillis()) {
                store.tick();
            }
        } catch (RuntimeException e) {
            LOG.debug("lease tick failed: {}", e.toString());
        }
    }

    /**
     * On a planned stop: if this zone leads, hands the leadership to the follower that is furthest
     * along, so the other zones' writes do not wait out an election timeout. Returns whether it did.
     */
    public boolean handOverLeadership(Duration timeout) {
        ReplicaStatus s = status();
        if (!"LEADER".equals(s.role()) || s.followers().isEmpty()) {
            return false;
        }
        ReplicaStatus.FollowerStatus next = s.followers().stream()
                .max(java.util.Comparator.comparingLong(ReplicaStatus.FollowerStatus::matchIndex)).orElseThrow();
        try {
            var reply = server.transferLeadership(new org.apache.ratis.protocol.TransferLeadershipRequest(
                    org.apache.ratis.protocol.ClientId.randomId(), server.getId(), group.getGroupId(), 0,
                    RaftPeerId.valueOf(next.zone()), timeout.toMillis()));
            LOG.info("zone {}: handed leadership of term {} to zone {} before stopping ({})", config.zone(), s.term(), next.zone(),
                    reply.isSuccess() ? "done" : "refused: " + reply.getException());
            return reply.isSuccess();
        } catch (IOException | RuntimeException e) {
            LOG.warn("zone {}: could not hand over leadership before stopping: {}", config.zone(), e.toString());
            return false;
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        store.close();
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException("zone " + config.zone() + ": closing the store voter failed", e);
        } finally {
            watchHub.close();
        }
        LOG.info("zone {}: store voter stopped", config.zone());
    }

    /** Who this replica is and whether it leads: what both the backups and disaster recovery ask first. */
    private abstract class Identity {
        public String region() {
            return config.region();
        }

        public String clusterId() {
            return config.clusterId();
        }

        public String zone() {
            return config.zone();
        }

        public boolean leads() {
            var info = division.getInfo();
            return info.isLeader() && info.isLeaderReady();
        }

        public long currentTerm() {
            return division.getInfo().getCurrentTerm();
        }
    }

    private final class Backups extends Identity implements BackupSource {

        @Override
        public long appliedIndex() {
            return division.getInfo().getLastAppliedIndex();
        }

        @Override
        public long archivedIndex() {
            return stateMachine.archivedIndex();
        }

        @Override
        public long journalDropped() {
            return stateMachine.journalDropped();
        }

        @Override
        public JournalRead readJournal(long fromIndex, int maxEntries, long maxBytes) {
            return stateMachine.readJournal(fromIndex, maxEntries, maxBytes);
        }

        @Override
        public StatePosition checkpoint(Path target) throws IOException {
            return stateMachine.checkpointForBackup(target);
        }

        @Override
        public void markArchived(long index, Duration timeout) throws IOException {
            try {
                store.markArchived(index).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("zone " + config.zone() + ": recording the archive position " + index + " failed: "
                        + e.getCause().getMessage(), e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IOException("zone " + config.zone() + ": recording the archive position " + index + " timed out after "
                        + timeout.toMillis() + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    private final class Region extends Identity implements RegionControl {

        @Override
        public long appliedIndex() {
            return division.getInfo().getLastAppliedIndex();
        }

        @Override
        public RegionState applied() {
            return stateMachine.region();
        }

        @Override
        public RegionState current() {
            return store.region(io.petrel.store.ReadConsistency.LINEARIZABLE);
        }

        @Override
        public Replayed replay(String sourceCluster, List<JournalEntry> entries, Duration timeout) throws IOException {
            List<WriteCmd.Replayed> cmds = entries.stream().map(e -> WriteCmd.Replayed.of(sourceCluster, e)).toList();
            List<WriteResult> results = await(store.replay(cmds), timeout, "replaying " + entries.size() + " entries");
            for (int i = 0; i < results.size(); i++) {
                if (results.get(i).status() != WriteResult.Status.OK) {
                    return new Replayed(i, results.get(i).message());
                }
            }
            return new Replayed(results.size(), null);
        }

        @Override
        public void changeRole(RegionState.Role role, long epoch, String primary, Duration timeout) throws IOException {
            WriteResult r = await(store.changeRole(role, epoch, primary), timeout, "becoming " + role + " in epoch " + epoch);
            if (r.status() != WriteResult.Status.OK) {
                throw new IOException("zone " + config.zone() + ": the region cannot become " + role + " in epoch " + epoch + ": " + r.message());
            }
        }

        private <T> T await(java.util.concurrent.CompletableFuture<T> f, Duration timeout, String what) throws IOException {
            try {
                return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("zone " + config.zone() + ": " + what + " failed: " + e.getCause().getMessage(), e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IOException("zone " + config.zone() + ": " + what + " timed out after " + timeout.toMillis() + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    private final class Local implements RatisStore.LocalReplica {
        @Override
        public java.util.Optional<String> writeRefusal() {
            RegionState region = stateMachine.region();
            if (!region.takesWrites()) {
                return java.util.Optional.of(region.readOnlyReason());
            }
            return writeGate.refusal(region);
        }

        @Override
        public String zone() {
            return config.zone();
        }

        @Override
        public QueryResult answer(Query query) {
            return stateMachine.answer(query);
        }

        @Override
        public Watch watch(String prefix, WatchListener listener) {
            return watchHub.register(prefix, listener);
        }

        @Override
        public void checkQuorum() {
            RoleInfoProto role = division.getInfo().getRoleInfoProto();
            long limit = 2 * config.tuning().electionTimeoutMax().toMillis();
            long withoutLeader = division.getInfo().getLeaderId() != null ? 0
                    : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leaderSeenNanos);
            if (role.hasFollowerInfo() && division.getInfo().getLeaderId() != null) {
                withoutLeader = role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs();
            }
            if (withoutLeader > limit) {
                throw new NoQuorumException("no quorum: zone " + config.zone() + " has not heard from a leader for "
                        + withoutLeader + " ms (a majority of zones is unreachable); the write was not accepted", null);
            }
            if (role.hasLeaderInfo()) {
                long reachable = 1 + role.getLeaderInfo().getFollowerInfoList().stream()
                        .filter(f -> f.getLastRpcElapsedTimeMs() <= limit).count();
                int majority = config.peers().size() / 2 + 1;
                if (reachable < majority) {
                    throw new NoQuorumException("no quorum: zone " + config.zone() + " leads but reaches only " + reachable + " of "
                            + config.peers().size() + " zones; the write was not accepted", null);
                }
            }
        }
    }
}
