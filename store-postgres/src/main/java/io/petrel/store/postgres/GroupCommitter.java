package io.petrel.store.postgres;

import io.petrel.store.ConflictException;
import io.petrel.store.KeyValue;
import io.petrel.store.LeaseNotFoundException;
import io.petrel.store.NoQuorumException;
import io.petrel.store.Op;
import io.petrel.store.StoreException;
import io.petrel.store.StoreLimits;
import io.petrel.store.WatchEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Puts the commits that arrive together into one database transaction. Writers are serialised by the revision
 * row's lock, and each transaction waits for its fsync and the synchronous standby while it holds it; one commit
 * per transaction would cap the store at one such round per write. In a batch every commit is still its own
 * revision, checked in arrival order against the state the earlier ones left, and a commit whose expectation or
 * lease fails is refused alone; only a database failure fails the whole batch (then none of it was applied, or,
 * if the connection broke during the commit, its outcome is unknown, as for any write).
 */
final class GroupCommitter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitter.class);
    private static final int MAX_COMMITS = 256;
    private static final long MAX_BYTES = 16L * 1024 * 1024;

    /** What a commit did: its revision (the current one if it changed nothing) and whether it deleted a value. */
    record Applied(long revision, boolean deleted) {
    }

    /** Runs a transaction on a pooled connection, translating failures into the store's exceptions. */
    interface Transactions {
        <T> T write(String what, PostgresStore.SqlWork<T> work);
    }

    private record Pending(List<Op> ops, long bytes, CompletableFuture<Applied> result) {
    }

    private final String where;
    private final Transactions transactions;
    private final Duration answerTimeout;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    GroupCommitter(String where, Transactions transactions, Duration answerTimeout) {
        this.where = where;
        this.transactions = transactions;
        this.answerTimeout = answerTimeout;
        this.thread = Thread.ofPlatform().daemon().name("petrel-postgres-commit").start(this::run);
    }

    /** Applies the commit (in a batch with whatever else is waiting) and returns what it did, or throws why not. */
    Applied commit(List<Op> ops) {
        Pending p = new Pending(ops, StoreLimits.commitBytes(ops), new CompletableFuture<>());
        if (closed) {
            throw new StoreException("the PostgreSQL store at " + where + " is closed");
        }
        queue.add(p);
        try {
            return p.result().get(answerTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new StoreException(String.valueOf(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new NoQuorumException("the PostgreSQL store at " + where + " did not answer a write within " + answerTimeout.toMillis()
                    + " ms; it was not acknowledged and may or may not have been applied", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for the PostgreSQL store", e);
        }
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        while (!closed) {
            Pending first;
            try {
                first = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (first == null) {
                continue;
            }
            batch.clear();
            batch.add(first);
            long bytes = first.bytes();
            while (batch.size() < MAX_COMMITS && bytes < MAX_BYTES) {
                Pending next = queue.poll();
                if (next == null) {
                    break;
                }
                batch.add(next);
                bytes += next.bytes();
            }
            List<Pending> these = List.copyOf(batch);
            try {
                List<Object> results = transactions.write("commit", c -> apply(c, these));
                for (int i = 0; i < these.size(); i++) {
                    Object r = results.get(i);
                    if (r instanceof Applied a) {
                        these.get(i).result().complete(a);
                    } else {
                        these.get(i).result().completeExceptionally((RuntimeException) r);
                    }
                }
            } catch (RuntimeException e) {
                these.forEach(p -> p.result().completeExceptionally(e));
                if (e instanceof NoQuorumException) {
                    // Those queued meanwhile waited behind a database that does not answer: they fail now, not
                    // after another wait of their own, so that callers fail fast and do not pile up.
                    List<Pending> waiting = new ArrayList<>();
                    queue.drainTo(waiting);
                    waiting.forEach(p -> p.result().completeExceptionally(e));
                }
            } catch (Error e) {
                these.forEach(p -> p.result().completeExceptionally(e));
                LOG.error("PostgreSQL store at {}: the commit thread failed", where, e);
                throw e;
            }
        }
        List<Pending> left = new ArrayList<>();
        queue.drainTo(left);
        left.forEach(p -> p.result().completeExceptionally(new StoreException("the PostgreSQL store at " + where + " is closed")));
    }

    /** The current state of a key inside the transaction (the value only where a delete needs it for its event). */
    private record Row(long createRev, long modRev, long version, long leaseId, byte[] value) {
        KeyValue toKeyValue(String key) {
            return new KeyValue(key, value, createRev, modRev, version, leaseId);
        }
    }

    /** One batch in one transaction: an {@link Applied} or the exception for each commit, in order. */
    private static List<Object> apply(Connection c, List<Pending> batch) throws SQLException {
        long start = PostgresStore.lockRevision(c);
        Set<String> keys = new HashSet<>();
        Set<String> deleted = new HashSet<>();
        Set<Long> leases = new HashSet<>();
        for (Pending p : batch) {
            for (Op op : p.ops()) {
                keys.add(op.key());
                if (op instanceof Op.Delete) {
                    deleted.add(op.key());
                } else if (op instanceof Op.Put put && put.leaseId() != 0) {
                    leases.add(put.leaseId());
                }
            }
        }
        Map<String, Row> state = currentRows(c, keys, deleted);
        Set<Long> live = liveLeases(c, leases);

        long rev = start;
        List<Object> results = new ArrayList<>(batch.size());
        Map<String, Row> finalState = new LinkedHashMap<>();       // key -> its row after the batch (null: deleted)
        List<PostgresStore.Change> changes = new ArrayList<>();
        for (Pending p : batch) {
            Long missing = null;
            for (Op op : p.ops()) {
                if (op instanceof Op.Put put && put.leaseId() != 0 && !live.contains(put.leaseId())) {
                    missing = put.leaseId();
                    break;
                }
            }
            if (missing != null) {
                results.add(new LeaseNotFoundException(missing));
                continue;
            }
            ConflictException conflict = null;
            for (Op op : p.ops()) {
                Row row = state.get(op.key());
                long actual = row == null ? 0 : row.modRev();
                if (!op.expect().holdsFor(actual)) {
                    conflict = new ConflictException(op.key(), op.expect(), actual);
                    break;
                }
            }
            if (conflict != null) {
                results.add(conflict);
                continue;
            }
            if (p.ops().stream().noneMatch(op -> op instanceof Op.Put || state.get(op.key()) != null)) {
                results.add(new Applied(rev, false));
                continue;
            }
            rev++;
            boolean anyDeleted = false;
            for (Op op : p.ops()) {
                Row old = state.get(op.key());
                if (op instanceof Op.Put put) {
                    Row row = new Row(old == null ? rev : old.createRev(), rev, old == null ? 1 : old.version() + 1, put.leaseId(), put.value());
                    state.put(op.key(), row);
                    finalState.put(op.key(), row);
                    changes.add(new PostgresStore.Change(rev, PostgresStore.PUT, WatchEvent.Cause.CLIENT, row.toKeyValue(op.key())));
                } else if (old != null) {
                    state.remove(op.key());
                    finalState.put(op.key(), null);
                    anyDeleted = true;
                    changes.add(new PostgresStore.Change(rev, PostgresStore.DELETE, WatchEvent.Cause.CLIENT, old.toKeyValue(op.key())));
                }
            }
            results.add(new Applied(rev, anyDeleted));
        }
        if (rev > start) {
            write(c, finalState);
            PostgresStore.recordChanges(c, changes, rev);
        }
        return results;
    }

    private static void write(Connection c, Map<String, Row> finalState) throws SQLException {
        try (PreparedStatement upsert = c.prepareStatement("INSERT INTO petrel_kv (key, value, create_rev, mod_rev, version, lease_id)"
                + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, create_rev = excluded.create_rev,"
                + " mod_rev = excluded.mod_rev, version = excluded.version, lease_id = excluded.lease_id");
             PreparedStatement remove = c.prepareStatement("DELETE FROM petrel_kv WHERE key = ?")) {
            int puts = 0;
            int removes = 0;
            for (Map.Entry<String, Row> e : finalState.entrySet()) {
                Row row = e.getValue();
                if (row != null) {
                    upsert.setBytes(1, PostgresStore.bytes(e.getKey()));
                    upsert.setBytes(2, row.value());
                    upsert.setLong(3, row.createRev());
                    upsert.setLong(4, row.modRev());
                    upsert.setLong(5, row.version());
                    upsert.setLong(6, row.leaseId());
                    upsert.addBatch();
                    puts++;
                } else {
                    remove.setBytes(1, PostgresStore.bytes(e.getKey()));
                    remove.addBatch();
                    removes++;
                }
            }
            if (puts > 0) {
                upsert.executeBatch();
            }
            if (removes > 0) {
                remove.executeBatch();
            }
        }
    }

    private static Map<String, Row> currentRows(Connection c, Set<String> keys, Set<String> deleted) throws SQLException {
        Map<String, Row> rows = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT key, create_rev, mod_rev, version, lease_id,"
                + " CASE WHEN key = ANY (?) THEN value END FROM petrel_kv WHERE key = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("bytea", deleted.stream().map(PostgresStore::bytes).toArray(byte[][]::new)));
            ps.setArray(2, c.createArrayOf("bytea", keys.stream().map(PostgresStore::bytes).toArray(byte[][]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.put(new String(rs.getBytes(1), StandardCharsets.UTF_8),
                            new Row(rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getBytes(6)));
                }
            }
        }
        return rows;
    }

    /** The leases among {@code ids} that exist and have not lapsed by the database's clock. */
    private static Set<Long> liveLeases(Connection c, Set<Long> ids) throws SQLException {
        Set<Long> found = new HashSet<>();
        if (ids.isEmpty()) {
            return found;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM petrel_lease WHERE id = ANY (?) AND expires_at > clock_timestamp()")) {
            Array array = c.createArrayOf("bigint", ids.toArray(Long[]::new));
            ps.setArray(1, array);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getLong(1));
                }
            }
        }
        return found;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
