package io.petrel.node;

import io.petrel.backup.BackupConfig;
import io.petrel.dr.DrConfig;
import io.petrel.store.postgres.PostgresConfig;
import io.petrel.store.ratis.Peer;
import io.petrel.store.ratis.ReplicaConfig;
import io.petrel.store.ratis.StoreTuning;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * How one zone node runs: its region and zone, every zone's store voter address, its data folder,
 * where its HTTP server listens, and the store's tuning. With {@code postgres} set, the zone keeps its
 * state in that PostgreSQL database instead of being a voter of the region's Raft group (then the peers,
 * the Raft tuning, backups and disaster recovery do not apply: PostgreSQL's own replication, WAL archiving
 * and point-in-time recovery do that job).
 */
public record NodeConfig(String region, String clusterId, String zone, List<Peer> peers, Path dataDir, String httpHost, int httpPort,
                         StoreTuning tuning, ApiSettings api, Optional<BackupConfig> backup, Optional<DrConfig> dr,
                         InvokerSettings invoker, Optional<PostgresConfig> postgres) {

    /** The same configuration on the embedded Raft store (the default backend). */
    public NodeConfig(String region, String clusterId, String zone, List<Peer> peers, Path dataDir, String httpHost, int httpPort,
                      StoreTuning tuning, ApiSettings api, Optional<BackupConfig> backup, Optional<DrConfig> dr, InvokerSettings invoker) {
        this(region, clusterId, zone, peers, dataDir, httpHost, httpPort, tuning, api, backup, dr, invoker, Optional.empty());
    }

    public NodeConfig {
        requireNonNull(region, "region");
        requireNonNull(clusterId, "clusterId");
        requireNonNull(backup, "backup");
        requireNonNull(dr, "dr");
        requireNonNull(invoker, "invoker");
        requireNonNull(postgres, "postgres");
        if (postgres.isPresent() && backup.isPresent()) {
            throw new IllegalArgumentException("store.backend=postgres keeps no backups of its own: PostgreSQL's WAL archiving and"
                    + " point-in-time recovery (pgBackRest, Barman, your managed service) back the database up; remove backup.target"
                    + " (or set it to none). Tenant export/import and ns sync still work");
        }
        if (postgres.isPresent() && dr.isPresent()) {
            throw new IllegalArgumentException("store.backend=postgres has no standby region of its own: a standby PostgreSQL in the"
                    + " other region (streaming replication, promoted by its own tools) covers disaster recovery; remove dr.*");
        }
        if (dr.isPresent() && backup.isEmpty()) {
            throw new IllegalArgumentException("dr.enabled needs backup.target: the backup target is the witness of the regions' quorum "
                    + "and where a standby reads the primary's archive");
        }
        requireNonNull(zone, "zone");
        requireNonNull(dataDir, "dataDir");
        requireNonNull(httpHost, "httpHost");
        requireNonNull(tuning, "tuning");
        requireNonNull(api, "api");
        peers = List.copyOf(peers);
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("http port " + httpPort + " is out of range");
        }
    }

    /** Whether this zone's store is a PostgreSQL database rather than a Raft voter here. */
    public boolean onPostgres() {
        return postgres.isPresent();
    }

    public ReplicaConfig replica() {
        if (postgres.isPresent()) {
            throw new IllegalStateException("zone " + zone + " keeps its state in PostgreSQL: it has no Raft replica");
        }
        return new ReplicaConfig(region, clusterId, zone, peers, dataDir,
                backup.map(b -> tuning.withJournalBytes(b.journalBytes())).orElse(tuning));
    }

    /**
     * Reads a node configuration file (Java properties). Keys: {@code region}, {@code zone},
     * {@code peers} (comma-separated {@code zone=host:port}), {@code data}, {@code http}
     * ({@code host:port}), and optionally {@code election.timeout.min.ms}, {@code election.timeout.max.ms},
     * {@code write.timeout.ms}, {@code snapshot.every.entries}, {@code log.segment.bytes},
     * {@code disk.reserve.bytes}, {@code verify.on.open}; for the API {@code api} ({@code host:port}, default the
     * http host and port 3233), {@code api.shared} ({@code host:port} bound with SO_REUSEPORT),
     * {@code admin.key.file}, {@code seed.development.keys} ({@code false} unless set) and {@code drain.ms}
     * (how long a stopping zone reports not ready before it stops serving, default 2000).
     */
    public static Properties readFile(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return p;
    }

    /** Builds a configuration from properties, each of which a flag may have overridden. */
    public static NodeConfig fromProperties(Properties p) {
        return fromProperties(p, System.getenv());
    }

    /**
     * Like {@link #fromProperties(Properties)}, with the environment the backup key may come from.
     * Backup keys: {@code backup.target} (a directory, relative to the data folder, or
     * {@code s3://bucket/prefix?endpoint=...}; unset or {@code none}: no backups), {@code backup.key.file} or
     * {@code backup.key.env}, {@code backup.archive.interval.ms}, {@code backup.snapshot.interval.s},
     * {@code backup.verify.interval.s}, {@code backup.retention.hours}, {@code backup.retention.snapshots},
     * {@code backup.journal.bytes}. The cluster id is {@code cluster.id} (empty for regions made before it existed).
     * Disaster recovery: {@code dr.enabled} and the other {@code dr.*} keys of {@link DrConfig}.
     * The store's backend: {@code store.backend} ({@code raft}, the default, or {@code postgres} with the
     * {@code store.postgres.*} keys of {@link PostgresConfig#fromProperties}); on PostgreSQL {@code peers} may be left out.
     */
    public static NodeConfig fromProperties(Properties p, Map<String, String> env) {
        String region = required(p, "region");
        String zone = required(p, "zone");
        String backend = p.getProperty("store.backend", "raft").trim();
        Optional<PostgresConfig> postgres = switch (backend) {
            case "raft" -> Optional.empty();
            case "postgres" -> Optional.of(PostgresConfig.fromProperties(p, env));
            default -> throw new IllegalArgumentException("store.backend must be raft or postgres, got '" + backend + "'");
        };
        List<Peer> peers = Arrays.stream((postgres.isPresent() ? p.getProperty("peers", "") : required(p, "peers")).split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).map(Peer::parse).toList();
        String http = required(p, "http");
        int colon = http.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("http must look like host:port, got '" + http + "'");
        }
        StoreTuning d = StoreTuning.DEFAULT;
        StoreTuning tuning = new StoreTuning(
                Duration.ofMillis(longOr(p, "election.timeout.min.ms", d.electionTimeoutMin().toMillis())),
                Duration.ofMillis(longOr(p, "election.timeout.max.ms", d.electionTimeoutMax().toMillis())),
                Duration.ofMillis(longOr(p, "write.timeout.ms", d.writeTimeout().toMillis())),
                longOr(p, "snapshot.every.entries", d.snapshotEveryEntries()),
                longOr(p, "log.segment.bytes", d.logSegmentBytes()),
                longOr(p, "disk.reserve.bytes", d.diskReserveBytes()),
                Boolean.parseBoolean(p.getProperty("verify.on.open", String.valueOf(d.verifyOnOpen()))), 0);
        String httpHost = http.substring(0, colon);
        ApiSettings.HostPort api = ApiSettings.HostPort.parse("api", p.getProperty("api", httpHost + ":" + ApiSettings.DEFAULT_PORT).trim());
        String shared = p.getProperty("api.shared", "").trim();
        String adminKeyFile = p.getProperty("admin.key.file", "").trim();
        ApiSettings apiSettings = new ApiSettings(api.host(), api.port(),
                shared.isEmpty() ? Optional.empty() : Optional.of(ApiSettings.HostPort.parse("api.shared", shared)),
                adminKeyFile.isEmpty() ? Optional.empty() : Optional.of(Path.of(adminKeyFile)),
                Boolean.parseBoolean(p.getProperty("seed.development.keys", "false").trim()),
                Duration.ofSeconds(longOr(p, "activation.retention.seconds", 24 * 3600)),
                Duration.ofMillis(longOr(p, "drain.ms", 2000)));
        Path data = Path.of(required(p, "data"));
        Optional<BackupConfig> backup;
        try {
            backup = BackupConfig.fromProperties(p, env, data);
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return new NodeConfig(region, p.getProperty("cluster.id", "").trim(), zone, peers, data, httpHost,
                Integer.parseInt(http.substring(colon + 1)), tuning, apiSettings, backup, DrConfig.fromProperties(p),
                InvokerSettings.fromProperties(p), postgres);
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("node configuration is missing '" + key + "'");
        }
        return v.trim();
    }

    private static long longOr(Properties p, String key, long dflt) {
        String v = p.getProperty(key);
        try {
            return v == null ? dflt : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("node configuration '" + key + "' must be a number, got '" + v + "'");
        }
    }
}
