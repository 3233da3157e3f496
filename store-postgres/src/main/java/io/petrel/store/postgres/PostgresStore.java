package io.petrel.store.postgres;

import io.petrel.store.Expect;
import io.petrel.store.InvalidRequestException;
import io.petrel.store.KeyValue;
import io.petrel.store.Lease;
import io.petrel.store.LeaseNotFoundException;
import io.petrel.store.NoQuorumException;
import io.petrel.store.Op;
import io.petrel.store.Read;
import io.petrel.store.ReadConsistency;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Staleness;
import io.petrel.store.Store;
import io.petrel.store.StoreException;
import io.petrel.store.StoreLimits;
import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;
import io.petrel.store.WatchListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The {@link Store} on PostgreSQL, for operators who run PostgreSQL with its own high availability (a primary and
 * synchronous standbys). Every write is one database transaction that takes the revision counter's row lock, so
 * writers are serialised, revisions are dense and their order is commit order; the transaction also appends the
 * change log that watchers read and notifies them. Reads go to the primary ({@code targetServerType=primary}), so
 * they see every acknowledged write. Lease deadlines are the database's clock, never this JVM's.
 */
public final class PostgresStore implements Store {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresStore.class);

    static final String CHANNEL = "petrel_changes";
    static final short PUT = 0;
    static final short DELETE = 1;

    private final PostgresConfig config;
    private final StoreLimits limits;
    private final ConnectionPool pool;
    private final ScheduledExecutorService housekeeping;
    private final ChangeFeed feed;
    private final GroupCommitter committer;
    private final Outage outage;

    private PostgresStore(PostgresConfig config, StoreLimits limits, Properties driverProperties) {
        this.config = config;
        this.limits = limits;
        this.outage = new Outage(config.where());
        this.housekeeping = Executors.newScheduledThreadPool(2,
                r -> Thread.ofPlatform().daemon().name("petrel-postgres-housekeeping").unstarted(r));
        this.pool = new ConnectionPool(config, driverProperties, housekeeping);
        this.feed = new ChangeFeed(config, driverProperties, this::revision, outage);
        // A write waits for a connection, then for its statements (each bounded by the socket timeout).
        this.committer = new GroupCommitter(config.where(), this::write,
                config.acquireTimeout().plus(config.socketTimeout()).plusSeconds(2));
    }

    /**
     * Connects, creates or migrates the schema, and starts expiring leases. Waits up to {@code startTimeout} for
     * the database to answer (a region and its database often start together).
     *
     * @throws SchemaTooNewException if the database's schema is newer than this Petrel knows
     * @throws NoQuorumException     if the database did not answer in time
     */
    public static PostgresStore open(PostgresConfig config, Duration startTimeout) {
        requireNonNull(config, "config");
        PostgresStore store = new PostgresStore(config, StoreLimits.DEFAULT, driverProperties(config));
        try {
            store.migrate(startTimeout);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        store.housekeeping.scheduleWithFixedDelay(store::expireLeases, 250, 250, TimeUnit.MILLISECONDS);
        store.housekeeping.scheduleWithFixedDelay(store::pruneChanges, 30, 60, TimeUnit.SECONDS);
        LOG.info("PostgreSQL store at {} open (schema version {}, user {})", config.where(), Schema.VERSION, config.user());
        return store;
    }

    /** Driver settings that make failover quick, unless the operator's URL sets them itself (the URL wins). */
    private static Properties driverProperties(PostgresConfig config) {
        Properties p = new Properties();
        p.setProperty("user", config.user());
        config.password().ifPresent(pw -> p.setProperty("password", pw));
        p.setProperty("targetServerType", "primary");
        // pgjdbc remembers for hostRecheckSeconds that a host was a standby; a promoted one must be found at once.
        p.setProperty("hostRecheckSeconds", "1");
        p.setProperty("connectTimeout", "2");
        p.setProperty("loginTimeout", "3");
        p.setProperty("socketTimeout", String.valueOf(Math.max(1, config.socketTimeout().toSeconds())));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", "petrel");
        return p;
    }

    private void migrate(Duration startTimeout) {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            try (Connection c = pool.get()) {
                Schema.migrate(c, config.where());
                return;
            } catch (SQLException e) {
                RuntimeException t = translate("opening the store", e);
                if (!(t instanceof NoQuorumException) || System.nanoTime() > deadline) {
                    throw t;
                }
                LOG.warn("PostgreSQL store at {}: not reachable yet, retrying: {}", config.where(), rootMessage(e));
                sleep(1000);
            }
        }
    }

    /** Where the store is, for messages and health pages (hosts and database, never the password). */
    public String where() {
        return config.where();
    }

    // ---------------------------------------------------------------------------------------------
    // Reads

    @Override
    public Read<Optional<KeyValue>> get(String key, ReadConsistency consistency) {
        limits.checkKey(key);
        requireNonNull(consistency, "consistency");
        return read("get", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT m.revision, k.value, k.create_rev, k.mod_rev, k.version, k.lease_id"
                    + " FROM petrel_meta m LEFT JOIN petrel_kv k ON k.key = ? WHERE m.id = 1")) {
                ps.setBytes(1, bytes(key));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long revision = rs.getLong(1);
                    byte[] value = rs.getBytes(2);
                    Optional<KeyValue> kv = value == null ? Optional.empty()
                            : Optional.of(new KeyValue(key, value, rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6)));
                    return new Read<>(kv, staleness(consistency, revision));
                }
            }
        });
    }

    @Override
    public ScanPage scan(ScanRequest request) {
        requireNonNull(request, "request");
        limits.checkScan(request);
        byte[] prefix = bytes(request.prefix());
        byte[] upper = upperBound(prefix);
        return read("scan", c -> {
            String sql = "SELECT m.revision, k.key, k.value, k.create_rev, k.mod_rev, k.version, k.lease_id FROM petrel_meta m"
                    + " LEFT JOIN LATERAL (SELECT * FROM petrel_kv WHERE key >= ? AND key > ?" + (upper != null ? " AND key < ?" : "")
                    + " ORDER BY key LIMIT ?) k ON true WHERE m.id = 1 ORDER BY k.key";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setBytes(i++, prefix);
                ps.setBytes(i++, bytes(request.startAfter()));
                if (upper != null) {
                    ps.setBytes(i++, upper);
                }
                ps.setInt(i, request.limit() + 1);
                List<KeyValue> items = new ArrayList<>();
                long revision = 0;
                boolean more = false;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        revision = rs.getLong(1);
                        byte[] k = rs.getBytes(2);
                        if (k == null) {
                            continue;
                        }
                        if (items.size() == request.limit()) {
                            more = true;
                            break;
                        }
                        items.add(new KeyValue(new String(k, StandardCharsets.UTF_8), rs.getBytes(3), rs.getLong(4), rs.getLong(5),
                                rs.getLong(6), rs.getLong(7)));
                    }
                }
                return new ScanPage(items, more, more ? items.getLast().key() : "", revision, staleness(request.consistency(), revision));
            }
        });
    }

    @Override
    public long revision() {
        return read("revision", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT revision FROM petrel_meta WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /**
     * A local read is served by the primary too (it is never stale); it says so. The store has no replica in this
     * process, so when the database is unreachable a local read fails like any other.
     */
    private Staleness staleness(ReadConsistency consistency, long revision) {
        return consistency == ReadConsistency.LOCAL ? new Staleness("postgres " + config.where(), revision, revision, 0) : null;
    }

    /** Keys with the prefix are below this bound: the prefix with its last byte below 0xff incremented; none if all are 0xff. */
    static byte[] upperBound(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xff) {
                byte[] b = Arrays.copyOf(prefix, i + 1);
                b[i]++;
                return b;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------
    // Writes

    @Override
    public boolean delete(String key, Expect expect) {
        Op op = new Op.Delete(key, expect);
        limits.checkOps(List.of(op));
        return apply(List.of(op)).deleted();
    }

    @Override
    public long commit(List<Op> ops) {
        limits.checkOps(ops);
        return apply(ops).revision();
    }

    private GroupCommitter.Applied apply(List<Op> ops) {
        return committer.commit(ops);
    }

    /** Takes the revision counter's row lock for the rest of the transaction; returns the current revision. */
    static long lockRevision(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT revision FROM petrel_meta WHERE id = 1 FOR UPDATE");
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new StoreException("the PostgreSQL store's revision row is missing: the schema was changed by hand");
            }
            return rs.getLong(1);
        }
    }

    /** One entry of the change log: a change made at revision {@code rev}. */
    record Change(long rev, short kind, WatchEvent.Cause cause, KeyValue kv) {
    }

    /**
     * Appends changes (in revision order, several per revision possible), moves the revision counter to
     * {@code revision} and notifies watchers (delivered when the transaction commits).
     */
    static void recordChanges(Connection c, List<Change> changes, long revision) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO petrel_changes (rev, seq, kind, cause, key, value, create_rev,"
                + " mod_rev, version, lease_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            int seq = 0;
            long last = -1;
            for (Change ch : changes) {
                seq = ch.rev() == last ? seq + 1 : 0;
                last = ch.rev();
                ps.setLong(1, ch.rev());
                ps.setInt(2, seq);
                ps.setShort(3, ch.kind());
                ps.setShort(4, (short) ch.cause().ordinal());
                ps.setBytes(5, bytes(ch.kv().key()));
                ps.setBytes(6, ch.kv().value());
                ps.setLong(7, ch.kv().createRevision());
                ps.setLong(8, ch.kv().modRevision());
                ps.setLong(9, ch.kv().version());
                ps.setLong(10, ch.kv().leaseId());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE petrel_meta SET revision = ? WHERE id = 1 RETURNING pg_notify(?, ?)")) {
            ps.setLong(1, revision);
            ps.setString(2, CHANNEL);
            ps.setString(3, Long.toString(revision));
            ps.executeQuery().close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Leases

    @Override
    public Lease grantLease(Duration ttl) {
        if (ttl == null || ttl.toMillis() < 1) {
            throw new InvalidRequestException("a lease needs a positive time to live");
        }
        long ttlMillis = ttl.toMillis();
        long id = read("grant a lease", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO petrel_lease (id, ttl_ms, expires_at)"
                    + " VALUES (nextval('petrel_lease_id'), ?, clock_timestamp() + ? * interval '1 millisecond') RETURNING id")) {
                ps.setLong(1, ttlMillis);
                ps.setLong(2, ttlMillis);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        return new Lease(id, ttlMillis);
    }

    @Override
    public Lease keepAlive(long leaseId) {
        // A lease whose deadline passed is gone even if no one has deleted its keys yet.
        Long ttl = read("renew a lease", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE petrel_lease SET expires_at = clock_timestamp() + ttl_ms * interval '1 millisecond'"
                    + " WHERE id = ? AND expires_at > clock_timestamp() RETURNING ttl_ms")) {
                ps.setLong(1, leaseId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : null;
                }
            }
        });
        if (ttl == null) {
            throw new LeaseNotFoundException(leaseId);
        }
        return new Lease(leaseId, ttl);
    }

    @Override
    public boolean revokeLease(long leaseId) {
        return revoke(leaseId, WatchEvent.Cause.LEASE_REVOKED);
    }

    /** Deletes the lease and its keys at one new revision (none if it had no keys); false if it was not there. */
    private boolean revoke(long leaseId, WatchEvent.Cause cause) {
        return write("revoke a lease", c -> {
            long revision = lockRevision(c);
            String condition = cause == WatchEvent.Cause.LEASE_EXPIRED ? " AND expires_at <= clock_timestamp()" : "";
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM petrel_lease WHERE id = ?" + condition)) {
                ps.setLong(1, leaseId);
                if (ps.executeUpdate() == 0) {
                    return false;
                }
            }
            List<KeyValue> gone = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM petrel_kv WHERE lease_id = ?"
                    + " RETURNING key, value, create_rev, mod_rev, version, lease_id")) {
                ps.setLong(1, leaseId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        gone.add(new KeyValue(new String(rs.getBytes(1), StandardCharsets.UTF_8), rs.getBytes(2), rs.getLong(3),
                                rs.getLong(4), rs.getLong(5), rs.getLong(6)));
                    }
                }
            }
            if (!gone.isEmpty()) {
                gone.sort(Comparator.comparing(KeyValue::key));
                recordChanges(c, gone.stream().map(kv -> new Change(revision + 1, DELETE, cause, kv)).toList(), revision + 1);
            }
            return true;
        });
    }

    /** Any process of the region may expire a lapsed lease; the revision lock makes sure only one does. */
    private void expireLeases() {
        try {
            List<Long> lapsed = read("find lapsed leases", c -> {
                List<Long> ids = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM petrel_lease WHERE expires_at <= clock_timestamp() ORDER BY id LIMIT 100");
                     ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
                return ids;
            });
            for (long id : lapsed) {
                if (revoke(id, WatchEvent.Cause.LEASE_EXPIRED)) {
                    LOG.debug("PostgreSQL store: lease {} expired", id);
                }
            }
        } catch (StoreException e) {
            // The outage is logged once by the outage tracker; leases expire once the database is back.
            LOG.debug("PostgreSQL store: leases not expired now: {}", e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("PostgreSQL store: expiring leases failed: {}", e.toString());
        }
    }

    /** Bounds the change log: a watcher further behind than it keeps reloads (it gets a RESET). */
    private void pruneChanges() {
        try {
            int n = read("prune the change log", c -> {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM petrel_changes WHERE rev <= (SELECT revision FROM petrel_meta WHERE id = 1) - ?"
                        + " OR committed_at < now() - ? * interval '1 second'")) {
                    ps.setLong(1, config.changeRetentionRevisions());
                    ps.setLong(2, config.changeRetention().toSeconds());
                    return ps.executeUpdate();
                }
            });
            if (n > 0) {
                LOG.debug("PostgreSQL store: pruned {} old change log rows", n);
            }
        } catch (RuntimeException e) {
            LOG.debug("PostgreSQL store: change log not pruned now: {}", e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Watches

    @Override
    public Watch watch(String prefix, WatchListener listener) {
        requireNonNull(prefix, "prefix");
        requireNonNull(listener, "listener");
        return feed.add(prefix, listener);
    }

    // ---------------------------------------------------------------------------------------------
    // Plumbing

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** One statement (or several that need no transaction) on a pooled connection in autocommit. */
    private <T> T read(String what, SqlWork<T> work) {
        try (Connection c = pool.get()) {
            T result = work.run(c);
            outage.ok();
            return result;
        } catch (SQLException e) {
            throw translate(what, e);
        }
    }

    /** A transaction: committed if {@code work} returns, rolled back if it throws (a conflict included). */
    <T> T write(String what, SqlWork<T> work) {
        try (Connection c = pool.get()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                outage.ok();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // The connection is broken; the pool drops it. The original failure is what matters.
                }
                throw e;
            }
        } catch (SQLException e) {
            throw translate(what, e);
        }
    }

    /**
     * Connection trouble becomes {@link NoQuorumException} (the API answers 503 and clients retry), naming the
     * database; anything else is a {@link StoreException} with the server's message.
     */
    RuntimeException translate(String what, SQLException e) {
        if (e instanceof SQLTransientConnectionException && e.getCause() == null && pool.hasConnections()) {
            // The pool timed out with the database answering: every connection was busy for the whole wait.
            return new NoQuorumException("the PostgreSQL store at " + config.where() + " is overloaded: no free connection within "
                    + config.acquireTimeout().toMillis() + " ms (" + what + "; " + e.getMessage() + ")", e);
        }
        String state = serverState(e);
        // A refused login or a missing database will not heal by waiting: those are configuration errors.
        boolean misconfigured = state.startsWith("28") || state.equals("3D000");
        boolean unreachable = !misconfigured && (e instanceof SQLTransientConnectionException || state.startsWith("08")
                || state.startsWith("57P") || state.equals("25006") || state.equals("53300") || state.equals("57014"));
        if (unreachable) {
            outage.failed(rootMessage(e));
            pool.unreachable(e);
            return new NoQuorumException("the PostgreSQL store at " + config.where() + " is unreachable (" + what + " failed: "
                    + rootMessage(e) + "); a write that failed like this was not acknowledged", e);
        }
        return new StoreException("the PostgreSQL store at " + config.where() + " failed to " + what + ": " + rootMessage(e), e);
    }

    /** The SQLState of the deepest cause that has one: the server's, when the pool wrapped a failed connection attempt. */
    private static String serverState(SQLException e) {
        String state = "";
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof SQLException se && se.getSQLState() != null) {
                state = se.getSQLState();
            }
        }
        return state;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        String message = String.valueOf(e.getMessage());
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null) {
                message = t.getMessage();
            }
        }
        return message;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for PostgreSQL", e);
        }
    }

    /** Whether the database answers now (health checks); fails within the pool's short wait when it does not. */
    public boolean ping() {
        try {
            revision();
            return true;
        } catch (StoreException e) {
            return false;
        }
    }

    @Override
    public void close() {
        committer.close();
        housekeeping.shutdownNow();
        feed.close();
        pool.close();
        LOG.info("PostgreSQL store at {} closed", config.where());
    }
}
