package io.petrel.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The gateway's Prometheus metrics: each zone's health as this instance sees it, requests by zone
 * and outcome, retries, ejections, and DNS answers.
 */
final class GatewayMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final String gateway;
    private final Timer latency;
    /** Counters by zone, kind and status class, built once: the meter registry's own lookup is costly on the request path. */
    private final java.util.concurrent.ConcurrentHashMap<String, Counter> requests = new java.util.concurrent.ConcurrentHashMap<>();

    GatewayMetrics(String gateway) {
        this.gateway = requireNonNull(gateway, "gateway");
        this.latency = Timer.builder("petrel_gateway_request_latency").description("from the request's arrival to the last byte of its answer")
                .tag("gateway", gateway).publishPercentiles(0.5, 0.99).register(registry);
    }

    void bindZone(ZoneState z) {
        Gauge.builder("petrel_gateway_zone_up", z, s -> s.up() ? 1 : 0).description("1 while the zone's health probes pass")
                .tags("gateway", gateway, "zone", z.zone()).register(registry);
        Gauge.builder("petrel_gateway_zone_routable", z, s -> s.routable() ? 1 : 0)
                .description("1 while the zone gets new requests (probes pass and it is not ejected)")
                .tags("gateway", gateway, "zone", z.zone()).register(registry);
        Gauge.builder("petrel_gateway_zone_in_flight", z, ZoneState::inFlight).description("requests the zone holds now")
                .tags("gateway", gateway, "zone", z.zone()).register(registry);
    }

    void request(String zone, RequestKind kind, int status, long nanos) {
        String statusClass = (status / 100) + "xx";
        requests.computeIfAbsent(zone + '/' + kind + '/' + statusClass, k -> Counter.builder("petrel_gateway_requests")
                .tags("gateway", gateway, "zone", zone, "kind", kind.name().toLowerCase(), "status", statusClass).register(registry)).increment();
        latency.record(nanos, TimeUnit.NANOSECONDS);
    }

    void retry(RequestKind kind, String reason) {
        Counter.builder("petrel_gateway_retries").tags("gateway", gateway, "kind", kind.name().toLowerCase(), "reason", reason)
                .register(registry).increment();
    }

    void ejection(String zone, String reason) {
        Counter.builder("petrel_gateway_ejections").tags("gateway", gateway, "zone", zone, "reason", reason).register(registry).increment();
    }

    void dnsAnswer(String type, String rcode) {
        Counter.builder("petrel_gateway_dns_answers").tags("gateway", gateway, "type", type, "rcode", rcode).register(registry).increment();
    }

    String scrape() {
        return registry.scrape();
    }
}
