package io.petrel.node;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.petrel.store.StoreException;
import io.petrel.store.postgres.PostgresStore;
import io.petrel.store.ratis.ReplicaStatus;
import io.petrel.store.ratis.ZoneReplica;

import java.util.function.ToDoubleFunction;

/**
 * The store's figures as gauges: role, term, commit and applied index, revision and snapshot age.
 * They read one status snapshot per scrape so that the figures of one scrape agree with each other.
 */
final class StoreMetrics {
    private final ZoneReplica replica;
    private volatile ReplicaStatus last;

    private StoreMetrics(ZoneReplica replica) {
        this.replica = replica;
    }

    static void bind(ZoneReplica replica, MeterRegistry registry) {
        StoreMetrics m = new StoreMetrics(replica);
        String zone = replica.zone();
        gauge(registry, m, "petrel_store_is_leader", "1 when this zone's voter is the leader", s -> "LEADER".equals(s.role()) ? 1 : 0, zone);
        gauge(registry, m, "petrel_store_term", "current Raft term", ReplicaStatus::term, zone);
        gauge(registry, m, "petrel_store_commit_index", "highest log index known committed", ReplicaStatus::commitIndex, zone);
        gauge(registry, m, "petrel_store_applied_index", "highest log index applied to the state", ReplicaStatus::appliedIndex, zone);
        gauge(registry, m, "petrel_store_revision", "store revision applied here", ReplicaStatus::revision, zone);
        gauge(registry, m, "petrel_store_snapshot_age_seconds", "age of the newest snapshot (-1: none)",
                s -> s.lastSnapshot() == null ? -1 : s.lastSnapshot().ageMillis() / 1000.0, zone);
        gauge(registry, m, "petrel_store_snapshot_index", "log index of the newest snapshot (-1: none)",
                s -> s.lastSnapshot() == null ? -1 : s.lastSnapshot().index(), zone);
    }

    /**
     * A zone on PostgreSQL has no replica: its store figures are whether the database answers and its revision
     * (NaN while the database does not answer), each read when scraped.
     */
    static void bindPostgres(String zone, PostgresStore store, MeterRegistry registry) {
        Gauge.builder("petrel_store_reachable", store, s -> revisionOrMinusOne(s) >= 0 ? 1 : 0)
                .description("1 when the PostgreSQL store answers").tag("zone", zone).strongReference(true).register(registry);
        Gauge.builder("petrel_store_revision", store, s -> {
                    long r = revisionOrMinusOne(s);
                    return r >= 0 ? r : Double.NaN;
                })
                .description("store revision").tag("zone", zone).strongReference(true).register(registry);
    }

    private static long revisionOrMinusOne(PostgresStore store) {
        try {
            return store.revision();
        } catch (StoreException e) {
            return -1;
        }
    }

    private static void gauge(MeterRegistry registry, StoreMetrics m, String name, String help,
                              ToDoubleFunction<ReplicaStatus> f, String zone) {
        Gauge.builder(name, m, x -> f.applyAsDouble(x.fresh(name)))
                .description(help)
                .tag("zone", zone)
                .strongReference(true)
                .register(registry);
    }

    /** A status read once per scrape: the first gauge of a scrape refreshes it. */
    private ReplicaStatus fresh(String gauge) {
        if (last == null || "petrel_store_is_leader".equals(gauge)) {
            last = replica.status();
        }
        return last;
    }
}
