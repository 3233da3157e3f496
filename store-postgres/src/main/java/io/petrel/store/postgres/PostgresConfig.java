package io.petrel.store.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * How to reach the PostgreSQL database a region keeps its store in.
 *
 * @param url             a pgjdbc URL, usually multi-host ({@code jdbc:postgresql://h1:5432,h2:5432/petrel}); unless the URL
 *                        says otherwise, the store connects to the primary only ({@code targetServerType=primary})
 * @param user            the database role
 * @param password        its password, if the server asks for one
 * @param poolSize        how many connections this process keeps at most
 * @param acquireTimeout  how long a request waits for a connection before it fails: short, so that requests fail fast
 *                        while the database is unreachable instead of piling up
 * @param socketTimeout   how long one statement may wait for the server (a write waits for the synchronous standby too)
 * @param changeRetention how long the change log keeps a change for watchers that reconnect
 * @param changeRetentionRevisions how many revisions the change log keeps at most
 */
public record PostgresConfig(String url, String user, Optional<String> password, int poolSize, Duration acquireTimeout,
                             Duration socketTimeout, Duration changeRetention, long changeRetentionRevisions) {

    public static final Duration DEFAULT_ACQUIRE_TIMEOUT = Duration.ofMillis(1500);
    /** Like the Raft store's write timeout: a statement (a commit waiting for the standby included) that takes longer fails. */
    public static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(5);

    public PostgresConfig {
        requireNonNull(url, "url");
        requireNonNull(user, "user");
        requireNonNull(password, "password");
        requireNonNull(acquireTimeout, "acquireTimeout");
        requireNonNull(socketTimeout, "socketTimeout");
        requireNonNull(changeRetention, "changeRetention");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("store.postgres.url must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port,host:port/db), got '"
                    + url + "'");
        }
        if (user.isBlank()) {
            throw new IllegalArgumentException("store.postgres.user must not be empty");
        }
        if (poolSize < 2) {
            throw new IllegalArgumentException("store.postgres.pool.size must be at least 2, got " + poolSize);
        }
        if (acquireTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("the connection wait must be at least 250 ms, got " + acquireTimeout.toMillis());
        }
        if (changeRetentionRevisions < 1000) {
            throw new IllegalArgumentException("the change log must keep at least 1000 revisions, got " + changeRetentionRevisions);
        }
    }

    public static PostgresConfig of(String url, String user, Optional<String> password) {
        return new PostgresConfig(url, user, password, 10, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_SOCKET_TIMEOUT,
                Duration.ofMinutes(10), 100_000);
    }

    /**
     * Reads {@code store.postgres.url}, {@code store.postgres.user}, the password from the file named by
     * {@code store.postgres.password.file} or the environment variable named by {@code store.postgres.password.env}
     * (never from the properties themselves, so it does not end up in a config file that is shared around), and
     * optionally {@code store.postgres.pool.size}, {@code store.postgres.acquire.timeout.ms},
     * {@code store.postgres.socket.timeout.ms}, {@code store.postgres.changes.retention.s},
     * {@code store.postgres.changes.retention.revisions}.
     */
    public static PostgresConfig fromProperties(Properties p, Map<String, String> env) {
        String url = required(p, "store.postgres.url");
        String user = required(p, "store.postgres.user");
        String file = p.getProperty("store.postgres.password.file", "").trim();
        String var = p.getProperty("store.postgres.password.env", "").trim();
        if (!file.isEmpty() && !var.isEmpty()) {
            throw new IllegalArgumentException("set store.postgres.password.file or store.postgres.password.env, not both");
        }
        Optional<String> password = Optional.empty();
        if (!file.isEmpty()) {
            try {
                password = Optional.of(Files.readString(Path.of(file)).strip());
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the PostgreSQL password file " + file + ": " + e.getMessage(), e);
            }
        } else if (!var.isEmpty()) {
            String v = env.get(var);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("store.postgres.password.env names " + var + ", which is not set");
            }
            password = Optional.of(v);
        }
        PostgresConfig d = of(url, user, password);
        return new PostgresConfig(url, user, password,
                (int) longOr(p, "store.postgres.pool.size", d.poolSize()),
                Duration.ofMillis(longOr(p, "store.postgres.acquire.timeout.ms", d.acquireTimeout().toMillis())),
                Duration.ofMillis(longOr(p, "store.postgres.socket.timeout.ms", d.socketTimeout().toMillis())),
                Duration.ofSeconds(longOr(p, "store.postgres.changes.retention.s", d.changeRetention().toSeconds())),
                longOr(p, "store.postgres.changes.retention.revisions", d.changeRetentionRevisions()));
    }

    /** The hosts of the URL, for messages: {@code h1:5432,h2:5432/petrel}. Never the password. */
    public String where() {
        String rest = url.substring("jdbc:postgresql:".length());
        if (rest.startsWith("//")) {
            rest = rest.substring(2);
        }
        int q = rest.indexOf('?');
        return q < 0 ? rest : rest.substring(0, q);
    }

    @Override
    public String toString() {
        // Never print the password.
        return "PostgresConfig[" + where() + ", user " + user + (password.isPresent() ? ", password set" : "") + ", pool " + poolSize + "]";
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("store.backend=postgres needs '" + key + "'");
        }
        return v.trim();
    }

    private static long longOr(Properties p, String key, long dflt) {
        String v = p.getProperty(key);
        try {
            return v == null || v.isBlank() ? dflt : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + key + "' must be a number, got '" + v + "'");
        }
    }
}
