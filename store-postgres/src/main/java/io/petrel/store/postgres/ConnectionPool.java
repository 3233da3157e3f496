package io.petrel.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The store's connections: a HikariCP pool, renewed when the database comes back after an outage. HikariCP
 * retries a failed connection with a backoff that grows to 5 s, so after a failover the pool could sit idle for
 * seconds while the new primary already answers, and its idle connections to a database that vanished without
 * closing them (a black-holed network) would each hold a request for the whole socket timeout. So once a request
 * finds the database unreachable, the others fail at once, and a probe every {@value #PROBE_MILLIS} ms checks
 * the database on a fresh connection and swaps in a fresh pool as soon as it answers.
 */
final class ConnectionPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPool.class);
    static final long PROBE_MILLIS = 250;
    private static final long SLICE_MILLIS = 250;

    private final PostgresConfig config;
    private final Properties driverProperties;
    private final ScheduledExecutorService timer;
    private final AtomicReference<HikariDataSource> current = new AtomicReference<>();
    /** Why a request last found the database unreachable; null while it answers (cleared when the pool is renewed). */
    private volatile SQLException failing;
    private volatile boolean closed;

    ConnectionPool(PostgresConfig config, Properties driverProperties, ScheduledExecutorService timer) {
        this.config = config;
        this.driverProperties = driverProperties;
        this.timer = timer;
        current.set(newPool());
        timer.scheduleWithFixedDelay(this::renewIfBack, PROBE_MILLIS, PROBE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private HikariDataSource newPool() {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("petrel-store-postgres");
        hc.setJdbcUrl(config.url());
        hc.setUsername(config.user());
        config.password().ifPresent(hc::setPassword);
        Properties props = new Properties();
        props.putAll(driverProperties);
        props.remove("user");
        props.remove("password");
        hc.setDataSourceProperties(props);
        hc.setMaximumPoolSize(config.poolSize());
        hc.setMinimumIdle(Math.min(2, config.poolSize()));
        // HikariCP's shortest wait: get() waits in such slices (up to the configured acquire timeout), so that a
        // request waiting while the pool is renewed moves to the fresh pool at once.
        hc.setConnectionTimeout(SLICE_MILLIS);
        hc.setValidationTimeout(Math.max(250, config.acquireTimeout().toMillis() - 250));
        hc.setKeepaliveTime(Duration.ofSeconds(30).toMillis());
        // Start even if the database is down: the store waits for it with a clear message.
        hc.setInitializationFailTimeout(-1);
        return new HikariDataSource(hc);
    }

    /**
     * A connection, waiting at most the configured acquire timeout: short, so that while the database is
     * unreachable a request fails after it instead of queueing up. Once a request found the database unreachable,
     * the others fail at once (their pooled connections may be as dead, and a black-holed one would hold them
     * for the whole socket timeout) until the probe finds it answering again.
     */
    Connection get() throws SQLException {
        long deadline = System.nanoTime() + config.acquireTimeout().toNanos();
        while (true) {
            SQLException down = failing;
            if (down != null) {
                throw new SQLTransientConnectionException("not trying: the last request found the database unreachable ("
                        + PostgresStore.rootMessage(down) + "); waiting for it to answer again", down.getSQLState(), down);
            }
            try {
                return current.get().getConnection();
            } catch (SQLTransientConnectionException e) {
                if (closed || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SLICE_MILLIS) > deadline) {
                    throw e;
                }
            }
        }
    }

    /** Whether the pool holds any connection now (if it does, a timeout means they were all busy). */
    boolean hasConnections() {
        HikariPoolMXBean mx = current.get().getHikariPoolMXBean();
        return mx != null && mx.getTotalConnections() > 0;
    }

    /** A request found the database unreachable: from now on, fail at once and probe for its return. */
    void unreachable(SQLException why) {
        if (failing == null) {
            failing = why;
        }
    }

    /** After a request found the database unreachable, checks it directly and renews the pool once it answers. */
    private void renewIfBack() {
        if (closed) {
            return;
        }
        if (failing == null) {
            return;
        }
        HikariDataSource pool = current.get();
        try (Connection c = new org.postgresql.Driver().connect(config.url(), driverProperties); Statement st = c.createStatement()) {
            st.execute("SELECT 1");
        } catch (SQLException | RuntimeException e) {
            return;                                   // still away: keep failing fast
        }
        HikariDataSource fresh = newPool();
        if (closed || !current.compareAndSet(pool, fresh)) {
            fresh.close();
            return;
        }
        failing = null;
        LOG.info("PostgreSQL store at {}: the database answers again; connection pool renewed", config.where());
        // Callers still waiting on the old pool time out as they would have; close it after them.
        timer.schedule(pool::close, config.acquireTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        closed = true;
        current.get().close();
    }
}
