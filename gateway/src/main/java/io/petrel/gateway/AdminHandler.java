package io.petrel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The gateway's own HTTP endpoints, on its admin address: {@code /health/live}, {@code /health/ready}
 * (503 while it drains), {@code /gateway/v1/status} (each zone as this instance sees it, the other
 * instances, the region's DR view and, with a global name, its answer) and {@code /metrics}.
 */
final class AdminHandler extends Handler.Abstract {
    private final GatewayConfig config;
    private final List<ZoneState> zones;
    private final HealthChecker health;
    private final Supplier<Optional<DrView>> dr;
    private final Supplier<Optional<Map<String, Object>>> global;
    private final GatewayMetrics metrics;
    private final ObjectMapper json;
    private final BooleanSupplier draining;

    AdminHandler(GatewayConfig config, List<ZoneState> zones, HealthChecker health, Supplier<Optional<DrView>> dr,
                 Supplier<Optional<Map<String, Object>>> global, GatewayMetrics metrics, ObjectMapper json, BooleanSupplier draining) {
        this.config = requireNonNull(config, "config");
        this.zones = List.copyOf(zones);
        this.health = requireNonNull(health, "health");
        this.dr = requireNonNull(dr, "dr");
        this.global = requireNonNull(global, "global");
        this.metrics = requireNonNull(metrics, "metrics");
        this.json = requireNonNull(json, "json");
        this.draining = requireNonNull(draining, "draining");
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        if (!request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
            return reply(response, callback, 405, Map.of("error", "method " + request.getMethod() + " not allowed on " + path));
        }
        switch (path) {
            case "/health/live" -> {
                return reply(response, callback, 200, Map.of("gateway", config.name(), "live", true));
            }
            case "/health/ready" -> {
                boolean ready = !draining.getAsBoolean();
                return reply(response, callback, ready ? 200 : 503, ready ? Map.of("gateway", config.name(), "ready", true)
                        : Map.of("gateway", config.name(), "ready", false, "reason", "draining"));
            }
            case "/gateway/v1/status" -> {
                return reply(response, callback, 200, status());
            }
            case "/metrics" -> {
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                Content.Sink.write(response, true, metrics.scrape(), callback);
                return true;
            }
            default -> {
                return reply(response, callback, 404, Map.of("error", "no such resource: " + path));
            }
        }
    }

    Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("gateway", config.name());
        s.put("region", config.region());
        s.put("draining", draining.getAsBoolean());
        s.put("listen", config.listen().stream().map(HostPort::toString).toList());
        s.put("apiHost", config.apiHost()); // what a peer region's gateway hands out for this instance under the global name
        s.put("dns", config.dns().stream().map(HostPort::toString).toList());
        s.put("zones", zones.stream().map(z -> {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("zone", z.zone());
            row.put("api", z.target().api().toString());
            row.put("up", z.up());
            row.put("routable", z.routable());
            row.put("ejected", z.ejected());
            row.put("inFlight", z.inFlight());
            row.put("reason", z.reason());
            row.put("since", Instant.ofEpochMilli(z.lastChangeMillis()).toString());
            return row;
        }).toList());
        s.put("gateways", config.gateways().stream().map(g -> Map.of("name", g.name(), "admin", g.admin().toString(),
                "live", health.peerLive(g.name()))).toList());
        s.put("dr", dr.get().map(DrView::toJson).orElse(null));
        global.get().ifPresent(g -> s.put("global", g));
        return s;
    }

    private boolean reply(Response response, Callback callback, int status, Object body) throws Exception {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, json.writeValueAsString(body) + "\n", callback);
        return true;
    }
}
