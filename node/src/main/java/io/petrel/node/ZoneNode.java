package io.petrel.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.petrel.store.Store;
import io.petrel.store.ratis.ZoneReplica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One zone of a region in one process: its store voter and its HTTP server. Later parts of the node
 * (the API, the invoker) are built on {@link #store()}.
 */
public final class ZoneNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneNode.class);

    private final NodeConfig config;
    private final ZoneReplica replica;
    private final Store store;
    private final NodeHttpServer http;

    private ZoneNode(NodeConfig config, ZoneReplica replica, Store store, NodeHttpServer http) {
        this.config = config;
        this.replica = replica;
        this.store = store;
        this.http = http;
    }

    /** Starts the zone; throws (naming what is wrong) if its data cannot be trusted or a port is taken. */
    public static ZoneNode start(NodeConfig config) throws Exception {
        requireNonNull(config, "config");
        ObjectMapper json = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Timer commits = Timer.builder("petrel_store_leader_commit_latency")
                .description("on the leader: from accepting a log entry to applying it (replication to a majority and fsync included)")
                .tag("zone", config.zone()).publishPercentiles(0.5, 0.99).register(metrics);
        ZoneReplica replica = ZoneReplica.start(config.replica(), nanos -> commits.record(nanos, TimeUnit.NANOSECONDS));
        try {
            StoreMetrics.bind(replica, metrics);
            Store store = new MeteredStore(replica.store(), metrics, config.zone());
            NodeHttpServer http = new NodeHttpServer(config.httpHost(), config.httpPort(), replica, metrics, json);
            http.start();
            LOG.info("zone {}: node ready to serve on http://{}:{} (region {})", config.zone(), config.httpHost(), http.port(), config.region());
            return new ZoneNode(config, replica, store, http);
        } catch (Exception e) {
            replica.close();
            throw e;
        }
    }

    public Store store() {
        return store;
    }

    public ZoneReplica replica() {
        return replica;
    }

    public int httpPort() {
        return http.port();
    }

    /** Stops in order: leave the rotation, stop serving, then stop the store voter. */
    @Override
    public void close() {
        LOG.info("zone {}: stopping", config.zone());
        http.drain();
        try {
            http.close();
        } catch (Exception e) {
            LOG.warn("zone {}: HTTP server did not stop cleanly: {}", config.zone(), e.toString());
        }
        replica.close();
        LOG.info("zone {}: stopped", config.zone());
    }
}
