package io.petrel.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.petrel.api.OpenWhiskApi;
import io.petrel.api.invoke.RegionThrottle;
import io.petrel.api.invoke.Throttle;
import io.petrel.api.http.ApiServer;
import io.petrel.api.transfer.PastStates;
import io.petrel.backup.BackupAgent;
import io.petrel.backup.BackupConfig;
import io.petrel.dr.DrAgent;
import io.petrel.dr.EpochLedger;
import io.petrel.dr.RegionFence;
import io.petrel.backup.BackupLayout;
import io.petrel.backup.PastStateStore;
import io.petrel.backup.target.BackupTargets;
import io.petrel.store.Store;
import io.petrel.store.postgres.PostgresStore;
import io.petrel.store.ratis.WriteGate;
import io.petrel.store.ratis.ZoneReplica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.security.SecureRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One zone of a region in one process: its store voter (or, with {@code store.backend=postgres}, its client
 * of the region's PostgreSQL database) and its HTTP server. Later parts of the node (the API, the invoker) are
 * built on {@link #store()}.
 */
public final class ZoneNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneNode.class);

    /** How long a zone on PostgreSQL waits for the database at start (a region and its database often start together). */
    private static final java.time.Duration STORE_START_TIMEOUT = java.time.Duration.ofSeconds(60);

    private final NodeConfig config;
    /** The zone's Raft voter; empty on PostgreSQL. */
    private final Optional<ZoneReplica> replica;
    /** The backend the node closes last: the replica's own store handle, or the PostgreSQL store. */
    private final AutoCloseable backend;
    private final Store store;
    private final NodeHttpServer http;
    private final OpenWhiskApi api;
    private final ApiServer apiServer;
    private final Thread seeder;
    private final Optional<BackupAgent> backups;
    private final Optional<DrAgent> dr;
    private final Optional<ZoneInvoker> invoker;
    private final Optional<ScheduledExecutorService> sweeper;

    private ZoneNode(NodeConfig config, Optional<ZoneReplica> replica, AutoCloseable backend, Store store, NodeHttpServer http,
                     OpenWhiskApi api, ApiServer apiServer, Thread seeder, Optional<BackupAgent> backups, Optional<DrAgent> dr,
                     Optional<ZoneInvoker> invoker, Optional<ScheduledExecutorService> sweeper) {
        this.invoker = invoker;
        this.sweeper = sweeper;
        this.config = config;
        this.replica = replica;
        this.backend = backend;
        this.store = store;
        this.http = http;
        this.api = api;
        this.apiServer = apiServer;
        this.seeder = seeder;
        this.backups = backups;
        this.dr = dr;
    }

    /** Starts the zone; throws (naming what is wrong) if its data cannot be trusted or a port is taken. */
    public static ZoneNode start(NodeConfig config) throws Exception {
        requireNonNull(config, "config");
        ObjectMapper json = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Timer commits = Timer.builder("petrel_store_leader_commit_latency")
                .description("on the leader: from accepting a log entry to applying it (replication to a majority and fsync included)")
                .tag("zone", config.zone()).publishPercentiles(0.5, 0.99).register(metrics);
        Optional<RegionFence> fence = config.dr().map(d -> new RegionFence(config.region(), d.lease(), System::nanoTime));
        Optional<ZoneReplica> replica = Optional.empty();
        Store backendStore;
        StoreHealth health;
        if (config.postgres().isPresent()) {
            // No voter here: the database is the region's replicated state (its own HA and backups; NodeConfig
            // refuses backup.* and dr.* with it).
            PostgresStore pg = PostgresStore.open(config.postgres().get(), STORE_START_TIMEOUT);
            LOG.info("zone {}: store on PostgreSQL at {} (region {})", config.zone(), pg.where(), config.region());
            backendStore = pg;
            health = StoreHealth.postgres(config.zone(), pg);
            StoreMetrics.bindPostgres(config.zone(), pg, metrics);
        } else {
            ZoneReplica r = ZoneReplica.start(config.replica(), nanos -> commits.record(nanos, TimeUnit.NANOSECONDS),
                    fence.<WriteGate>map(f -> f).orElse(WriteGate.OPEN));
            replica = Optional.of(r);
            backendStore = r.store();
            health = StoreHealth.raft(r);
        }
        AutoCloseable backend = replica.<AutoCloseable>map(r -> r).orElse(backendStore);
        Optional<BackupAgent> backups = Optional.empty();
        Optional<DrAgent> dr = Optional.empty();
        Optional<ZoneInvoker> invoker = Optional.empty();
        Optional<InetAddress> localAddress = Optional.of(InetAddress.getByName(config.httpHost()));
        try {
            replica.ifPresent(r -> StoreMetrics.bind(r, metrics));
            if (config.backup().isPresent()) {
                BackupConfig b = config.backup().get();
                BackupAgent agent = new BackupAgent(b, replica.orElseThrow().backupSource(), BackupTargets.open(b.target(), System.getenv(), localAddress),
                        config.dataDir().resolve("backup-work"), Clock.systemUTC());
                BackupMetrics.bind(agent, metrics, config.zone());
                agent.start();
                backups = Optional.of(agent);
            }
            if (config.dr().isPresent()) {
                BackupAgent agent = backups.orElseThrow();
                var source = replica.orElseThrow().backupSource();
                DrAgent drAgent = new DrAgent(config.dr().get(), replica.orElseThrow().regionControl(), fence.orElseThrow(),
                        new EpochLedger(agent.repository().target()), agent.repository(), source::archivedIndex,
                        () -> Math.round(agent.status().rpoSeconds() * 1000),
                        () -> agent.snapshotNow().whenComplete((m, e) -> {
                            if (e != null) {
                                LOG.warn("zone {}: the first snapshot after the promotion failed: {}", config.zone(), e.getMessage());
                            }
                        }), localAddress, Clock.systemUTC());
                DrMetrics.bind(drAgent, metrics, config.zone());
                drAgent.start();
                dr = Optional.of(drAgent);
            }
            Store store = new MeteredStore(backendStore, metrics, config.zone());
            ApiSettings settings = config.api();
            String incarnation = Long.toHexString(new SecureRandom().nextLong() | Long.MIN_VALUE);
            if (config.invoker().enabled()) {
                String apiHost = config.invoker().apiHost().orElse("http://" + settings.host() + ":" + settings.port());
                invoker = Optional.of(ZoneInvoker.start(config, store, json, incarnation, apiHost));
                InvokerMetrics.bind(invoker.get().local(), metrics, config.zone());
            }
            NodeHttpServer http = new NodeHttpServer(config.httpHost(), config.httpPort(), config.zone(), replica, health, backups, dr,
                    metrics, json, invoker.map(i -> i.placement().endpoint()));
            http.start();
            invoker.ifPresent(ZoneInvoker::startPlacement);
            Optional<PastStates> past = backups.map(agent -> time -> PastStateStore.restore(agent.repository(),
                    Optional.of(BackupLayout.clusterName(config.clusterId())), time,
                    config.dataDir().resolve("backup-work").resolve("past-" + System.nanoTime())));
            OpenWhiskApi api = new OpenWhiskApi(new OpenWhiskApi.Config(config.zone(), readAdminKey(settings), settings.activationRetention()), store, json,
                    System::currentTimeMillis, past, execution(config, store, json, incarnation, invoker));
            List<ApiServer.Listen> listens = new ArrayList<>();
            listens.add(new ApiServer.Listen(settings.host(), settings.port(), false));
            settings.shared().ifPresent(s -> listens.add(new ApiServer.Listen(s.host(), s.port(), true)));
            ApiServer apiServer = new ApiServer(config.zone(), listens, api, json);
            try {
                apiServer.start();
            } catch (Exception e) {
                http.close();
                throw new IllegalStateException("cannot serve the API on " + listens + ": " + e.getMessage(), e);
            }
            Thread seeder = settings.seedDevelopmentKeys() ? Thread.ofVirtual().name("seed-development-keys").start(() -> seed(config, api)) : null;
            LOG.info("zone {}: node ready to serve on http://{}:{}, OpenWhisk API on http://{}:{}{} (region {})", config.zone(),
                    config.httpHost(), http.port(), settings.host(), apiServer.port(0),
                    settings.shared().map(s -> " and shared http://" + s.host() + ":" + s.port()).orElse(""), config.region());
            Optional<ScheduledExecutorService> sweeper = invoker.map(i -> sweepLostActivations(config.zone(), api, i));
            return new ZoneNode(config, replica, backend, store, http, api, apiServer, seeder, backups, dr, invoker, sweeper);
        } catch (Exception e) {
            invoker.ifPresent(ZoneInvoker::close);
            dr.ifPresent(DrAgent::close);
            if (backups.isPresent()) {
                backups.get().close();
            }
            backend.close();
            throw e;
        }
    }

    private static OpenWhiskApi.Execution execution(NodeConfig config, Store store, ObjectMapper json, String incarnation,
                                                    Optional<ZoneInvoker> invoker) {
        if (invoker.isEmpty()) {
            return new OpenWhiskApi.Execution(OpenWhiskApi.Execution.none().runtimes(), Optional.empty(), limits -> Throttle.NONE, incarnation);
        }
        ZoneInvoker i = invoker.get();
        String self = config.zone() + "/" + incarnation;
        return new OpenWhiskApi.Execution(i.runtimes(), Optional.of(i.placement().runner()), limits -> config.invoker().throttles()
                ? new RegionThrottle(store, json, self, id -> i.placement().directory().alive(id).orElse(true), limits, System::currentTimeMillis)
                : Throttle.NONE, incarnation);
    }

    /**
     * Every 3 s, records the accepted activations of zones whose invoker lease expired as lost. Every
     * zone does it; each acceptance is taken by one compare-and-set, so they never record one twice.
     */
    private static ScheduledExecutorService sweepLostActivations(String zone, OpenWhiskApi api, ZoneInvoker invoker) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("lost-activations-" + zone).unstarted(r));
        timer.scheduleWithFixedDelay(() -> {
            try {
                // A directory this zone could not read lately declares nobody dead.
                api.recordLostActivations(id -> invoker.placement().directory().alive(id).orElse(true));
            } catch (RuntimeException e) {
                LOG.debug("zone {}: lost activations not swept: {}", zone, e.toString());
            }
        }, 3, 3, TimeUnit.SECONDS);
        return timer;
    }

    private static Optional<String> readAdminKey(ApiSettings settings) throws IOException {
        if (settings.adminKeyFile().isEmpty()) {
            return Optional.empty();
        }
        Path file = settings.adminKeyFile().get();
        if (!Files.isReadable(file)) {
            throw new IOException("admin key file " + file + " does not exist or is not readable");
        }
        String key = Files.readString(file).trim();
        if (key.length() < 32) {
            throw new IOException("admin key in " + file + " is too short (" + key.length() + " characters; at least 32 are needed)");
        }
        return Optional.of(key);
    }

    /** Seeds the development keys once the store takes writes; any zone may win, the others find them there. */
    private static void seed(NodeConfig config, OpenWhiskApi api) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                api.seedDevelopmentKeys();
                return;
            } catch (RuntimeException e) {
                LOG.debug("zone {}: development keys not seeded yet: {}", config.zone(), e.toString());
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** The port of this zone's own API address. */
    public int apiPort() {
        return apiServer.port(0);
    }

    public Store store() {
        return store;
    }

    /** The zone's Raft voter; empty when the zone keeps its state in PostgreSQL. */
    public Optional<ZoneReplica> replica() {
        return replica;
    }

    public int httpPort() {
        return http.port();
    }

    /**
     * Stops in order, so that a planned stop fails no request: report not ready and keep serving for
     * {@code drain.ms} while load balancers take the zone out; stop taking connections and finish the
     * requests in hand; hand the store's leadership to another zone if this one leads; then stop the
     * store voter.
     */
    @Override
    public void close() {
        LOG.info("zone {}: stopping: reporting not ready for {} ms before the API stops", config.zone(), config.api().drain().toMillis());
        http.drain();
        if (seeder != null) {
            seeder.interrupt();
        }
        try {
            Thread.sleep(config.api().drain().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            apiServer.close();
        } catch (Exception e) {
            LOG.warn("zone {}: API server did not stop cleanly: {}", config.zone(), e.toString());
        }
        sweeper.ifPresent(ScheduledExecutorService::shutdownNow);
        // Running actions end now (as failures with their records); the API below writes what is left.
        invoker.ifPresent(ZoneInvoker::close);
        dr.ifPresent(DrAgent::close);
        backups.ifPresent(b -> {
            try {
                b.close();
            } catch (IOException e) {
                LOG.warn("zone {}: backups did not stop cleanly: {}", config.zone(), e.toString());
            }
        });
        replica.ifPresent(r -> r.handOverLeadership(java.time.Duration.ofSeconds(3)));
        api.close();
        try {
            http.close();
        } catch (Exception e) {
            LOG.warn("zone {}: HTTP server did not stop cleanly: {}", config.zone(), e.toString());
        }
        try {
            backend.close();
        } catch (Exception e) {
            LOG.warn("zone {}: the store did not close cleanly: {}", config.zone(), e.toString());
        }
        LOG.info("zone {}: stopped", config.zone());
    }
}
