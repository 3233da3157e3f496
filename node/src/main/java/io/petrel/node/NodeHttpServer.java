package io.petrel.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.node.placement.InvokerEndpoint;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.petrel.backup.BackupAgent;
import io.petrel.dr.DrAgent;
import io.petrel.store.ratis.RegionState;
import io.petrel.store.ratis.ZoneReplica;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The zone's HTTP server: health ({@code /health/live}, {@code /health/ready}), the zone's own status
 * ({@code /admin/v1/status}, {@code /admin/v1/digest}) and Prometheus metrics ({@code /metrics}).
 */
final class NodeHttpServer implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(1);

    private final Server server;
    private final ServerConnector connector;
    private final String zone;
    /** The zone's Raft voter; empty when the zone keeps its state in PostgreSQL. */
    private final Optional<ZoneReplica> replica;
    private final StoreHealth store;
    private final Optional<BackupAgent> backups;
    private final Optional<DrAgent> dr;
    private final PrometheusMeterRegistry metrics;
    private final ObjectMapper json;
    private volatile boolean draining;

    private final Optional<InvokerEndpoint> invoker;

    NodeHttpServer(String host, int port, String zone, Optional<ZoneReplica> replica, StoreHealth store, Optional<BackupAgent> backups,
                   Optional<DrAgent> dr, PrometheusMeterRegistry metrics, ObjectMapper json, Optional<InvokerEndpoint> invoker) {
        this.invoker = requireNonNull(invoker, "invoker");
        this.zone = requireNonNull(zone, "zone");
        this.replica = requireNonNull(replica, "replica");
        this.store = requireNonNull(store, "store");
        this.backups = requireNonNull(backups, "backups");
        this.dr = requireNonNull(dr, "dr");
        this.metrics = requireNonNull(metrics, "metrics");
        this.json = requireNonNull(json, "json");
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("petrel-http");
        this.server = new Server(threads);
        this.connector = new ServerConnector(server, 1, 1);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new Routes());
        server.setStopTimeout(5_000);
    }

    void start() throws Exception {
        server.start();
    }

    int port() {
        return connector.getLocalPort();
    }

    /** From now on, report not ready, so that load balancers take this zone out before it stops. */
    void drain() {
        draining = true;
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String path = Request.getPathInContext(request);
            String method = request.getMethod();
            if (path.startsWith("/invoker/") && invoker.isPresent()) {
                return invoker.get().handle(request, response, callback);
            }
            if (path.equals("/admin/v1/backup/snapshot") && HttpMethod.POST.is(method)) {
                return snapshotNow(response, callback);
            }
            if (path.startsWith("/admin/v1/dr/") && HttpMethod.POST.is(method)) {
                return drAction(path, Request.extractQueryParameters(request), response, callback);
            }
            if (!HttpMethod.GET.is(method) && !HttpMethod.HEAD.is(method)) {
                return reply(response, callback, 405, Map.of("error", "method " + method + " not allowed on " + path));
            }
            switch (path) {
                case "/health/live" -> {
                    return reply(response, callback, 200, Map.of("zone", zone, "live", true));
                }
                case "/health/ready" -> {
                    boolean ready = !draining && store.ready(READY_TIMEOUT);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("zone", zone);
                    body.put("ready", ready);
                    if (draining) {
                        body.put("reason", "draining");
                    } else if (!ready) {
                        body.put("reason", store.notReadyReason());
                    }
                    return reply(response, callback, ready ? 200 : 503, body);
                }
                case "/admin/v1/status" -> {
                    return reply(response, callback, 200, store.status());
                }
                case "/admin/v1/backup" -> {
                    if (backups.isEmpty()) {
                        return reply(response, callback, 404, Map.of("error", "zone " + zone + " has no backups configured"));
                    }
                    return reply(response, callback, 200, backups.get().status());
                }
                case "/admin/v1/dr" -> {
                    if (replica.isEmpty()) {
                        return reply(response, callback, 404, Map.of("error", onPostgres("disaster recovery")));
                    }
                    if (dr.isEmpty()) {
                        RegionState r = replica.get().regionControl().applied();
                        return reply(response, callback, 200, Map.of("region", replica.get().regionControl().region(), "zone", zone,
                                "role", r.role().name(), "epoch", r.epoch(), "writable", r.takesWrites()));
                    }
                    return reply(response, callback, 200, dr.get().status());
                }
                case "/admin/v1/dr/ack" -> {
                    Fields q = Request.extractQueryParameters(request);
                    if (dr.isEmpty() || q.getValue("region") == null || q.getValue("epoch") == null) {
                        return reply(response, callback, dr.isEmpty() ? 404 : 400, Map.of("error", dr.isEmpty()
                                ? "disaster recovery is off in zone " + zone : "give region= and epoch="));
                    }
                    try {
                        boolean ack = dr.get().acknowledges(q.getValue("region"), Long.parseLong(q.getValue("epoch")));
                        return reply(response, callback, 200, Map.of("ack", ack, "zone", zone));
                    } catch (NumberFormatException e) {
                        return reply(response, callback, 400, Map.of("error", "epoch must be a number"));
                    } catch (RuntimeException e) {
                        return reply(response, callback, 503, Map.of("ack", false, "error", String.valueOf(e.getMessage())));
                    }
                }
                case "/admin/v1/digest" -> {
                    if (replica.isEmpty()) {
                        return reply(response, callback, 404, Map.of("error", onPostgres("a replica digest")));
                    }
                    return reply(response, callback, 200, replica.get().digest());
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

        /** Blocks this request's thread for the snapshot: an operator's request, answered with the manifest or the reason. */
        private boolean snapshotNow(Response response, Callback callback) throws Exception {
            if (backups.isEmpty()) {
                return reply(response, callback, 404, Map.of("error", "zone " + zone + " has no backups configured"));
            }
            ZoneReplica r = replica.orElseThrow();          // backups exist only on the Raft store
            if (!r.backupSource().leads()) {
                return reply(response, callback, 409, Map.of("error", "zone " + zone + " does not lead; the leader ("
                        + r.status().leader() + ") takes backups", "leader", String.valueOf(r.status().leader())));
            }
            try {
                return reply(response, callback, 200, backups.get().snapshotNow().get(30, TimeUnit.MINUTES));
            } catch (ExecutionException e) {
                return reply(response, callback, 503, Map.of("error", "the snapshot failed: " + e.getCause().getMessage()));
            }
        }

        /** {@code promote} (a standby; {@code planned=true&upTo=N} after the primary's demotion) and {@code demote?to=REGION} (the primary). */
        private boolean drAction(String path, Fields q, Response response, Callback callback) throws Exception {
            if (dr.isEmpty()) {
                return reply(response, callback, 404, Map.of("error", "disaster recovery is off in zone " + zone));
            }
            ZoneReplica r = replica.orElseThrow();          // disaster recovery exists only on the Raft store
            if (!r.regionControl().leads()) {
                return reply(response, callback, 409, Map.of("error", "zone " + zone + " does not lead; ask the leader ("
                        + r.status().leader() + ")", "leader", String.valueOf(r.status().leader())));
            }
            try {
                switch (path) {
                    case "/admin/v1/dr/promote" -> {
                        boolean planned = Boolean.parseBoolean(q.getValue("planned"));
                        long upTo = q.getValue("upTo") == null ? -1 : Long.parseLong(q.getValue("upTo"));
                        return reply(response, callback, 200, dr.get().promote(planned, upTo,
                                planned ? "a planned switchover" : "promoted by an operator"));
                    }
                    case "/admin/v1/dr/demote" -> {
                        String to = q.getValue("to");
                        if (to == null || to.isBlank()) {
                            return reply(response, callback, 400, Map.of("error", "give to=REGION, the region that takes over"));
                        }
                        return reply(response, callback, 200, dr.get().demote(to, Duration.ofSeconds(60)));
                    }
                    default -> {
                        return reply(response, callback, 404, Map.of("error", "no such resource: " + path));
                    }
                }
            } catch (IllegalStateException | NumberFormatException e) {
                return reply(response, callback, 409, Map.of("error", String.valueOf(e.getMessage())));
            } catch (IOException e) {
                return reply(response, callback, 503, Map.of("error", String.valueOf(e.getMessage())));
            }
        }

        private String onPostgres(String what) {
            return "zone " + zone + " keeps its state in PostgreSQL: " + what + " is the database's own (its replication and"
                    + " point-in-time recovery), not Petrel's";
        }

        private boolean reply(Response response, Callback callback, int status, Object body) throws Exception {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            Content.Sink.write(response, true, json.writeValueAsString(body) + "\n", callback);
            return true;
        }
    }
}
