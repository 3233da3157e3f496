package io.petrel.store.postgres;

import io.petrel.store.KeyValue;
import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;
import io.petrel.store.WatchListener;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * Delivers the change log to this process's watchers, in revision order, on one thread. That thread holds its
 * own connection (not a pooled one) that LISTENs for the writers' notifications; on each, every
 * {@value #POLL_MILLIS} ms anyway, and after every reconnect it reads the change log after the last revision it
 * delivered, so a notification lost while the database failed over loses no change. A watcher so far behind that
 * the log was pruned past it gets a RESET and reloads.
 */
final class ChangeFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeFeed.class);
    private static final int POLL_MILLIS = 1000;
    /** Revisions read per query. */
    private static final int PAGE = 200;

    private final PostgresConfig config;
    private final Properties driverProperties;
    private final LongSupplier currentRevision;
    private final Outage outage;
    private final List<Registration> watchers = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    /** The last revision delivered; -1 until the feed starts. Guarded by {@link #lock}. */
    private long delivered = -1;
    private Thread thread;
    private volatile boolean closed;

    ChangeFeed(PostgresConfig config, Properties driverProperties, LongSupplier currentRevision, Outage outage) {
        this.config = config;
        this.driverProperties = driverProperties;
        this.currentRevision = currentRevision;
        this.outage = outage;
    }

    private final class Registration implements Watch {
        final String prefix;
        final WatchListener listener;
        /** Changes up to this revision happened before the watch: not delivered to it. Guarded by {@link #lock}. */
        long from;

        Registration(String prefix, WatchListener listener, long from) {
            this.prefix = prefix;
            this.listener = listener;
            this.from = from;
        }

        @Override
        public void close() {
            watchers.remove(this);
        }
    }

    /** Registers a watcher for every change after now; the first one starts the feed (reading the revision, so it can fail). */
    Watch add(String prefix, WatchListener listener) {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the store is closed");
            }
            if (delivered < 0) {
                delivered = currentRevision.getAsLong();
                thread = Thread.ofPlatform().daemon().name("petrel-postgres-watch").start(this::run);
            }
            Registration r = new Registration(prefix, listener, delivered);
            watchers.add(r);
            return r;
        }
    }

    private void run() {
        long backoff = 200;
        while (!closed) {
            try (Connection c = new org.postgresql.Driver().connect(config.url(), driverProperties)) {
                if (c == null) {
                    throw new SQLException("pgjdbc did not accept the URL " + config.where());
                }
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + PostgresStore.CHANNEL);
                }
                LOG.info("PostgreSQL store at {}: watching changes after revision {}", config.where(), deliveredNow());
                backoff = 200;
                PGConnection pg = c.unwrap(PGConnection.class);
                checkNotAhead(c);
                catchUp(c);
                while (!closed) {
                    pg.getNotifications(POLL_MILLIS);
                    if (closed) {
                        break;
                    }
                    // Whether notified or not: reading the log is what guarantees nothing is missed.
                    catchUp(c);
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    break;
                }
                outage.failed(PostgresStore.rootMessage(e));
                LOG.debug("PostgreSQL watch connection lost: {}", e.toString());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    break;
                }
                backoff = Math.min(2000, backoff * 2);
            }
        }
    }

    private long deliveredNow() {
        synchronized (lock) {
            return delivered;
        }
    }

    /**
     * Delivers every change after the last delivered revision, in (revision, seq) order, a range of whole
     * revisions at a time (a revision is never split between pages).
     */
    private void catchUp(Connection c) throws SQLException {
        while (!closed) {
            long after = deliveredNow();
            List<WatchEvent> events = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT rev, kind, cause, key, value, create_rev, mod_rev, version, lease_id"
                    + " FROM petrel_changes WHERE rev > ? AND rev <= ? ORDER BY rev, seq")) {
                ps.setLong(1, after);
                ps.setLong(2, after + PAGE);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        KeyValue kv = new KeyValue(new String(rs.getBytes(4), StandardCharsets.UTF_8), rs.getBytes(5), rs.getLong(6),
                                rs.getLong(7), rs.getLong(8), rs.getLong(9));
                        WatchEvent.Type type = rs.getShort(2) == PostgresStore.PUT ? WatchEvent.Type.PUT : WatchEvent.Type.DELETE;
                        events.add(new WatchEvent(type, kv, rs.getLong(1), WatchEvent.Cause.values()[rs.getShort(3)]));
                    }
                }
            }
            outage.ok();
            long first = events.isEmpty() ? nextLogged(c, after) : events.getFirst().revision();
            if (first < 0) {
                return;
            }
            // Revisions are dense and every one has changes: a hole right after ours means the log was pruned.
            if (first > after + 1) {
                reset(c, after, first);
                continue;
            }
            deliver(events);
        }
    }

    /** The first revision in the log after {@code after}, or -1 if there is none. */
    private static long nextLogged(Connection c, long after) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT min(rev) FROM petrel_changes WHERE rev > ?")) {
            ps.setLong(1, after);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? -1 : v;
            }
        }
    }

    /** The log no longer holds the revisions after {@code after}: every watcher reloads from the current state. */
    private void reset(Connection c, long after, long first) throws SQLException {
        long now = currentRevision(c);
        LOG.warn("PostgreSQL store at {}: the change log was pruned past revision {} (it starts at {}); watchers reload at revision {}",
                config.where(), after, first, now);
        resetTo(now);
    }

    /**
     * After a reconnect: a database whose revision is below what was delivered is not the history the watchers
     * saw (a commit that was visible on the old primary never reached the one promoted, which happens only
     * when its wait for the standby was cancelled). Its next revisions would be skipped: the watchers reload.
     */
    private void checkNotAhead(Connection c) throws SQLException {
        long now = currentRevision(c);
        long seen = deliveredNow();
        if (now < seen) {
            LOG.warn("PostgreSQL store at {}: the database is at revision {}, behind revision {} already delivered to watchers"
                    + " (a failover lost commits that had been visible); watchers reload at revision {}", config.where(), now, seen, now);
            resetTo(now);
        }
    }

    private static long currentRevision(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT revision FROM petrel_meta WHERE id = 1")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void resetTo(long now) {
        synchronized (lock) {
            for (Registration r : watchers) {
                safeDeliver(r, new WatchEvent(WatchEvent.Type.RESET, null, now, WatchEvent.Cause.SNAPSHOT));
                // After the reload every later change is news to it, even at a revision it had seen before.
                r.from = Math.min(r.from, now);
            }
            delivered = now;
        }
    }

    private void deliver(List<WatchEvent> events) {
        synchronized (lock) {
            for (WatchEvent e : events) {
                for (Registration r : watchers) {
                    if (e.revision() > r.from && e.kv().key().startsWith(r.prefix)) {
                        safeDeliver(r, e);
                    }
                }
                delivered = Math.max(delivered, e.revision());
            }
        }
    }

    private static void safeDeliver(Registration r, WatchEvent e) {
        try {
            r.listener.onEvent(e);
        } catch (RuntimeException ex) {
            // One broken listener must not stop the others (or the feed).
            LOG.warn("a watcher of '{}' failed on revision {}: {}", r.prefix, e.revision(), ex.toString());
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (lock) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
