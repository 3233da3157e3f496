package io.petrel.store.ratis;

import io.petrel.store.ConflictException;
import io.petrel.store.DiskFullException;
import io.petrel.store.InvalidRequestException;
import io.petrel.store.KeyValue;
import io.petrel.store.Lease;
import io.petrel.store.LeaseNotFoundException;
import io.petrel.store.NoQuorumException;
import io.petrel.store.RegionReadOnlyException;
import io.petrel.store.Op;
import io.petrel.store.Read;
import io.petrel.store.ReadConsistency;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import io.petrel.store.StoreException;
import io.petrel.store.StoreLimits;
import io.petrel.store.Watch;
import io.petrel.store.WatchListener;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.util.Objects.requireNonNull;

/**
 * The {@link Store} on a Ratis group. Writes are group-committed through a Raft client; reads are
 * linearizable through ReadIndex, served by the local zone when this handle lives next to a replica
 * (follower reads), else by the leader.
 */
public final class RatisStore implements Store {
    private final String name;
    private final RaftGroup group;
    private final ClientHolder clients;
    private final GroupCommitter committer;
    private final StoreLimits limits;
    private final StoreTuning tuning;
    /** The replica in this process, if any: local reads, watches and a fast "no quorum" check. */
    private final LocalReplica local;

    /** What a handle needs from a replica in the same process. */
    interface LocalReplica {
        String zone();

        QueryResult answer(Query query);

        Watch watch(String prefix, WatchListener listener);

        /** Fails at once when this zone has had no leader for a while, rather than retrying until the timeout. */
        void checkQuorum();

        /** Why this zone may not acknowledge its region's client writes now, if so (see {@link WriteGate}). */
        Optional<String> writeRefusal();
    }

    RatisStore(String name, RaftGroup group, StoreTuning tuning, StoreLimits limits, LocalReplica local) {
        this.name = requireNonNull(name, "name");
        this.group = requireNonNull(group, "group");
        this.tuning = requireNonNull(tuning, "tuning");
        this.limits = requireNonNull(limits, "limits");
        this.local = local;
        this.clients = new ClientHolder(group, tuning);
        this.committer = new GroupCommitter(name, clients, tuning.writeTimeout().plusSeconds(2), this::translate);
    }

    /** A client of a region's store from outside its zones (tools, tests, benchmarks). */
    public static RatisStore connect(String region, List<Peer> peers, StoreTuning tuning) {
        return connect(region, "", peers, tuning);
    }

    /** A client of one cluster of a region (see {@link ReplicaConfig#clusterId()}). */
    public static RatisStore connect(String region, String clusterId, List<Peer> peers, StoreTuning tuning) {
        return new RatisStore("client", RatisGroup.of(region, clusterId, peers), tuning, StoreLimits.DEFAULT, null);
    }

    /**
     * Applies entries of the cluster this standby follows, in order (the group committer puts them in as
     * few log entries as it can); one result per entry.
     */
    CompletableFuture<List<WriteResult>> replay(List<WriteCmd.Replayed> entries) {
        List<CompletableFuture<WriteResult>> each = entries.stream().map(e -> submit(WriteCmd.replay(e))).toList();
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(done -> each.stream().map(CompletableFuture::join).toList());
    }

    /** Changes the region's disaster-recovery role through consensus. */
    CompletableFuture<WriteResult> changeRole(RegionState.Role role, long epoch, String primary) {
        return submit(WriteCmd.regionRole(role, epoch, primary));
    }

    /** The region's role, read linearizably (through the leader) or from this zone's applied state. */
    RegionState region(ReadConsistency consistency) {
        return query(Query.region(), consistency).region();
    }

    /** Records that the applied log up to {@code index} is in the backup archive (see {@link BackupSource}). */
    CompletableFuture<WriteResult> markArchived(long index) {
        return submit(WriteCmd.archived(index));
    }

    // ---------------------------------------------------------------------------------------------
    // Reads

    @Override
    public Read<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
        limits.checkKey(key);
        QueryResult r = query(Query.get(key), consistency);
        Optional<KeyValue> value = r.items().stream().findFirst();
        return new Read<>(value, consistency == ReadConsistency.LOCAL ? r.staleness() : null);
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        limits.checkScan(request);
        QueryResult r = query(Query.scan(request.prefix(), request.startAfter(), request.limit()), request.consistency());
        return new ScanPage(r.items(), r.more(), r.more() ? r.items().getLast().key() : "", r.revision(),
                request.consistency() == ReadConsistency.LOCAL ? r.staleness() : null);
    }

    @Override
    public long revision() {
        return query(Query.revision(), ReadConsistency.LINEARIZABLE).revision();
    }

    /** A linearizable read of the revision that occupies no thread while it waits (for health checks). */
    CompletableFuture<Long> revisionAsync() {
        return readAsync(Query.revision()).thenApply(QueryResult::revision);
    }

    /** The state digest of one zone's replica, read there without a quorum (for consistency checks). */
    public QueryResultView digestOf(String zone) {
        QueryResult r = staleRead(Query.digest(), RatisGroup.peerId(zone));
        return new QueryResultView(r.digest(), r.revision(), r.staleness().appliedIndex());
    }

    /** A zone's digest of its state, the revision and the log index it covers. */
    public record QueryResultView(String digest, long revision, long appliedIndex) {
    }

    private QueryResult query(Query q, ReadConsistency consistency) {
        if (consistency == ReadConsistency.LOCAL) {
            return localQuery(q);
        }
        return join(readAsync(q));
    }

    private QueryResult localQuery(Query q) {
        if (local != null) {
            QueryResult result = local.answer(q);
            if (result.error() != null) {
                throw new StoreException("the store could not answer: " + result.error());
            }
            return result;
        }
        StoreException last = null;
        for (RaftPeer peer : group.getPeers()) {
            try {
                return staleRead(q, peer.getId());
            } catch (StoreException e) {
                last = e;
            }
        }
        throw new StoreException("no zone answered a local read: " + (last == null ? "no peers" : last.getMessage()), last);
    }

    /** A linearizable read, served by this handle's own zone if it has one (a follower read), else by the leader. */
    private CompletableFuture<QueryResult> readAsync(Query q) {
        // Unordered: a read must not wait behind (or hold up) the ordered stream of writes.
        RaftClient client = clients.get();
        CompletableFuture<RaftClientReply> reply = local != null
                ? client.async().sendReadOnlyUnordered(Codec.query(q), RatisGroup.peerId(local.zone()))
                : client.async().sendReadOnlyUnordered(Codec.query(q));
        return reply.handle((r, t) -> {
            if (t != null) {
                clients.onFailure(client, t);
                throw translate(t);
            }
            return decode(r);
        });
    }

    private QueryResult staleRead(Query q, RaftPeerId zone) {
        try {
            return await(CompletableFuture.completedFuture(clients.zoneReads().io().sendStaleRead(Codec.query(q), 0, zone)));
        } catch (IOException e) {
            throw new StoreException("zone " + zone + " did not answer a local read: " + e.getMessage(), e);
        }
    }

    private QueryResult await(CompletableFuture<RaftClientReply> reply) {
        return decode(join(reply));
    }

    private QueryResult decode(RaftClientReply r) {
        if (!r.isSuccess()) {
            throw translate(r.getException());
        }
        QueryResult result = Codec.decodeQueryReply(r.getMessage().getContent());
        if (result.error() != null) {
            throw result.error().startsWith(ZoneStateMachine.INVALID)
                    ? new InvalidRequestException(result.error().substring(ZoneStateMachine.INVALID.length() + 2))
                    : new StoreException("the store could not answer: " + result.error());
        }
        return result;
    }

    // ---------------------------------------------------------------------------------------------
    // Writes

    @Override
    public boolean delete(String key, io.petrel.store.Expect expect) {
        WriteResult r = write(WriteCmd.commit(List.of(new Op.Delete(key, expect))), List.of(new Op.Delete(key, expect)));
        return r.deleted();
    }

    @Override
    public long commit(List<Op> ops) {
        return join(commitAsync(ops)).revision();
    }

    /** Submits a commit without waiting; the future fails with the same exceptions {@link #commit} throws. */
    public CompletableFuture<WriteResult> commitAsync(List<Op> ops) {
        limits.checkOps(ops);
        return submit(WriteCmd.commit(ops)).thenApply(r -> acknowledge(check(r, ops)));
    }

    @Override
    public Lease grantLease(Duration ttl) {
        if (ttl == null || ttl.toMillis() < 1) {
            throw new InvalidRequestException("a lease needs a positive time to live");
        }
        WriteResult r = write(WriteCmd.grantLease(ttl.toMillis()), List.of());
        return new Lease(r.leaseId(), r.ttlMillis());
    }

    @Override
    public Lease keepAlive(long leaseId) {
        WriteResult r = write(WriteCmd.keepAlive(leaseId), List.of());
        return new Lease(r.leaseId(), r.ttlMillis());
    }

    @Override
    public boolean revokeLease(long leaseId) {
        try {
            write(WriteCmd.revokeLease(leaseId), List.of());
            return true;
        } catch (LeaseNotFoundException e) {
            return false;
        }
    }

    /** Sends the replicated clock forward so that lapsed leases expire even when nothing is written. */
    CompletableFuture<WriteResult> tick() {
        return committer.submit(WriteCmd.tick());
    }

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        requireNonNull(prefix, "prefix");
        requireNonNull(listener, "listener");
        if (local == null) {
            throw new UnsupportedOperationException("watch needs a replica in this process; this is a remote client");
        }
        return local.watch(prefix, listener);
    }

    private WriteResult write(WriteCmd cmd, List<Op> ops) {
        if (!ops.isEmpty()) {
            limits.checkOps(ops);
        }
        return join(submit(cmd).thenApply(r -> acknowledge(check(r, ops))));
    }

    private CompletableFuture<WriteResult> submit(WriteCmd cmd) {
        if (local != null && cmd.isClientWrite()) {
            // Refused here, a write a region cannot take never reaches the log or fails the client's stream.
            var refusal = local.writeRefusal();
            if (refusal.isPresent()) {
                return CompletableFuture.failedFuture(new RegionReadOnlyException(refusal.get(), false));
            }
        }
        if (local != null) {
            try {
                local.checkQuorum();
            } catch (NoQuorumException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return committer.submit(cmd);
    }

    private static WriteResult check(WriteResult r, List<Op> ops) {
        return switch (r.status()) {
            case OK -> r;
            case CONFLICT -> {
                Op op = ops.stream().filter(o -> o.key().equals(r.conflictKey())).findFirst().orElseThrow();
                throw new ConflictException(r.conflictKey(), op.expect(), r.actualRevision());
            }
            case LEASE_NOT_FOUND -> throw new LeaseNotFoundException(r.leaseId());
            case INVALID -> throw new InvalidRequestException(r.message());
            case READ_ONLY -> throw new RegionReadOnlyException(r.message(), false);
        };
    }

    /**
     * A client write applied while this zone's fencing lease held is acknowledged; one whose lease ran
     * out meanwhile is not, since another region may take writes from then on.
     */
    private WriteResult acknowledge(WriteResult r) {
        if (local != null) {
            var refusal = local.writeRefusal();
            if (refusal.isPresent()) {
                throw new RegionReadOnlyException(refusal.get() + " (this write was ordered before and may have been applied)", true);
            }
        }
        return r;
    }

    private <T> T join(CompletableFuture<T> f) {
        try {
            return f.get(tuning.writeTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw translate(e.getCause());
        } catch (TimeoutException e) {
            throw new NoQuorumException("no quorum: no answer from the store within " + tuning.writeTimeout().plusSeconds(5).toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for the store", e);
        }
    }

    /** Maps whatever Ratis or the state machine threw onto the store's own exceptions. */
    RuntimeException translate(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof StoreException se) {
            return se;
        }
        String message = String.valueOf(t.getMessage());
        if (t instanceof StateMachineException) {
            int i = message.indexOf(ZoneStateMachine.DISK_FULL);
            if (i >= 0) {
                return new DiskFullException(message.substring(i + ZoneStateMachine.DISK_FULL.length() + 2));
            }
            i = message.indexOf(ZoneStateMachine.READ_ONLY);
            if (i >= 0) {
                return new RegionReadOnlyException(message.substring(i + ZoneStateMachine.READ_ONLY.length() + 2), false);
            }
            i = message.indexOf(ZoneStateMachine.INVALID);
            if (i >= 0) {
                return new InvalidRequestException(message.substring(i + ZoneStateMachine.INVALID.length() + 2));
            }
            return new StoreException("store error: " + message, t);
        }
        if (t instanceof IOException || t instanceof TimeoutException) {
            return new NoQuorumException("no quorum: the store could not order the request within "
                    + tuning.writeTimeout().toMillis() + " ms (" + t.getClass().getSimpleName() + ": " + message + ")", t);
        }
        if (t instanceof RuntimeException re) {
            return re;
        }
        return new StoreException(message, t);
    }

    @Override
    public void close() {
        committer.close();
        clients.close();
    }
}
