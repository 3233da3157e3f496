package io.petrel.node;

import io.petrel.store.postgres.PostgresStore;
import io.petrel.store.ratis.ZoneReplica;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * What the zone's health and status pages ask of its store, whichever backend holds it: a Raft voter in this
 * process, or a PostgreSQL database elsewhere (then "ready" means the database answers).
 */
interface StoreHealth {

    /** Whether the store can serve a linearizable read now, found out within about {@code timeout}. */
    boolean ready(Duration timeout);

    /** Why the zone is not ready, for the health page. */
    String notReadyReason();

    /** The zone's own status page. */
    Object status();

    static StoreHealth raft(ZoneReplica replica) {
        requireNonNull(replica, "replica");
        return new StoreHealth() {
            @Override
            public boolean ready(Duration timeout) {
                return replica.ready(timeout);
            }

            @Override
            public String notReadyReason() {
                return "no quorum: this zone cannot complete a linearizable read now";
            }

            @Override
            public Object status() {
                return replica.status();
            }
        };
    }

    static StoreHealth postgres(String zone, PostgresStore store) {
        requireNonNull(zone, "zone");
        requireNonNull(store, "store");
        return new StoreHealth() {
            @Override
            public boolean ready(Duration timeout) {
                return store.ping();
            }

            @Override
            public String notReadyReason() {
                return "the PostgreSQL store at " + store.where() + " does not answer";
            }

            @Override
            public Object status() {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("zone", zone);
                s.put("backend", "postgres");
                s.put("database", store.where());
                s.put("role", "POSTGRES");
                try {
                    s.put("revision", store.revision());
                    s.put("reachable", true);
                } catch (RuntimeException e) {
                    s.put("reachable", false);
                    s.put("error", String.valueOf(e.getMessage()));
                }
                return s;
            }
        };
    }
}
