package io.petrel.store.postgres;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Petrel's tables in PostgreSQL and their migrations. The version is kept in {@code petrel_schema}; every
 * process that opens the store brings the schema up to {@link #VERSION} (under an advisory lock, so zones that
 * start together migrate once) and refuses a database whose schema is newer than it knows.
 */
final class Schema {
    private static final Logger LOG = LoggerFactory.getLogger(Schema.class);

    /** Any constant: the advisory lock that serialises migrations of one database. */
    private static final long MIGRATION_LOCK = 0x7065747265L;

    /** Migration i (0-based) brings the schema from version i to i + 1. Never edit one that shipped: add one. */
    private static final List<List<String>> MIGRATIONS = List.of(List.of(
            // One row: the store's revision. Every writer updates it in its transaction, so writers are serialised
            // by its row lock and revision order is commit order (a sequence would not be: a value taken early can
            // commit after a later one, and a watcher would skip it).
            "CREATE TABLE petrel_meta (id integer PRIMARY KEY CHECK (id = 1), revision bigint NOT NULL)",
            "INSERT INTO petrel_meta VALUES (1, 0)",
            // bytea compares byte by byte: the Store's key order (UTF-8 bytes), whatever the database's collation.
            "CREATE TABLE petrel_kv (key bytea PRIMARY KEY, value bytea NOT NULL, create_rev bigint NOT NULL,"
                    + " mod_rev bigint NOT NULL, version bigint NOT NULL, lease_id bigint NOT NULL DEFAULT 0)",
            "CREATE INDEX petrel_kv_lease ON petrel_kv (lease_id) WHERE lease_id <> 0",
            "CREATE SEQUENCE petrel_lease_id",
            "CREATE TABLE petrel_lease (id bigint PRIMARY KEY, ttl_ms bigint NOT NULL, expires_at timestamptz NOT NULL)",
            "CREATE INDEX petrel_lease_expiry ON petrel_lease (expires_at)",
            // The change log watchers read (kind 0 put, 1 delete; for a delete, the value it had). Written in the
            // writer's transaction, so a watcher that reconnects reads what it missed.
            "CREATE TABLE petrel_changes (rev bigint NOT NULL, seq integer NOT NULL, kind smallint NOT NULL, cause smallint NOT NULL,"
                    + " key bytea NOT NULL, value bytea NOT NULL, create_rev bigint NOT NULL, mod_rev bigint NOT NULL,"
                    + " version bigint NOT NULL, lease_id bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (rev, seq))",
            "CREATE INDEX petrel_changes_time ON petrel_changes (committed_at)"));

    static final int VERSION = MIGRATIONS.size();

    private Schema() {
    }

    /** Brings the schema to {@link #VERSION}; throws {@link SchemaTooNewException} if the database is ahead. */
    static void migrate(Connection c, String where) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
            st.execute("CREATE TABLE IF NOT EXISTS petrel_schema (version integer PRIMARY KEY,"
                    + " applied_at timestamptz NOT NULL DEFAULT now())");
            int current;
            try (ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM petrel_schema")) {
                rs.next();
                current = rs.getInt(1);
            }
            if (current > VERSION) {
                c.rollback();
                throw new SchemaTooNewException("the PostgreSQL database at " + where + " has Petrel schema version " + current
                        + ", newer than this Petrel knows (" + VERSION + "): a newer Petrel migrated it. Run that newer Petrel"
                        + " (or newer) on every zone; an older one must not write to it");
            }
            for (int v = current; v < VERSION; v++) {
                for (String sql : MIGRATIONS.get(v)) {
                    st.execute(sql);
                }
                st.execute("INSERT INTO petrel_schema (version) VALUES (" + (v + 1) + ")");
                LOG.info("PostgreSQL store at {}: schema migrated to version {}", where, v + 1);
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }
}
