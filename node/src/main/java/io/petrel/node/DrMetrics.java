package io.petrel.node;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.petrel.dr.DrAgent;
import io.petrel.dr.DrStatus;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Disaster recovery as Prometheus gauges: the region's role and epoch, whether this zone takes writes
 * and how long its fencing lease still holds, and on a standby how far it is behind its primary.
 */
final class DrMetrics {
    private static final List<String> ROLES = List.of("SOLO", "PRIMARY", "STANDBY", "PROMOTING", "DEMOTED");

    private DrMetrics() {
    }

    static void bind(DrAgent agent, MeterRegistry registry, String zone) {
        for (String role : ROLES) {
            Gauge.builder("petrel_dr_role", agent, a -> role.equals(a.status().role()) ? 1 : 0)
                    .description("1 for the region's disaster-recovery role as this zone applied it").tag("zone", zone).tag("role", role)
                    .register(registry);
        }
        gauge(registry, zone, agent, "petrel_dr_epoch", "the fencing epoch the region holds or last acknowledged", DrStatus::epoch);
        gauge(registry, zone, agent, "petrel_dr_writable", "1 while this zone takes client writes", s -> s.writable() ? 1 : 0);
        gauge(registry, zone, agent, "petrel_dr_lease_remaining_seconds", "how long this zone's fencing lease still holds",
                s -> s.leaseRemainingMs() / 1000.0);
        gauge(registry, zone, agent, "petrel_dr_lag_entries", "on a standby: archived entries of the primary not applied yet (-1: unknown)",
                DrStatus::lagEntries);
        gauge(registry, zone, agent, "petrel_dr_lag_seconds", "on a standby: how far the last applied entry is behind the primary's newest heartbeat",
                s -> s.lagMillis() < 0 ? Double.NaN : s.lagMillis() / 1000.0);
        gauge(registry, zone, agent, "petrel_dr_primary_seen_seconds_ago", "on a standby: since the primary last answered or wrote a heartbeat",
                s -> s.primarySeenMsAgo() < 0 ? Double.NaN : s.primarySeenMsAgo() / 1000.0);
    }

    private static void gauge(MeterRegistry registry, String zone, DrAgent agent, String name, String help, ToDoubleFunction<DrStatus> f) {
        Gauge.builder(name, agent, a -> f.applyAsDouble(a.status())).description(help).tag("zone", zone).register(registry);
    }
}
