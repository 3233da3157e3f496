package io.petrel.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.petrel.backup.BackupAgent;
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
import org.eclipse.jetty.util.thread.QueuedThreadPool;

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
    private final ZoneReplica replica;
    private final Optional<BackupAgent> backups;
    private final PrometheusMeterRegistry metrics;
    private final ObjectMapper json;
    private volatile boolean draining;

    NodeHttpServer(String host, int port, ZoneReplica replica, Optional<BackupAgent> backups, PrometheusMeterRegistry metrics,
                   ObjectMapper json) {
        this.replica = requireNonNull(replica, "replica");
        this.backups = requireNonNull(backups, "backups");
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
            if (path.equals("/admin/v1/backup/snapshot") && HttpMethod.POST.is(method)) {
                return snapshotNow(response, callback);
            }
            if (!HttpMethod.GET.is(method) && !HttpMethod.HEAD.is(method)) {
                return reply(response, callback, 405, Map.of("error", "method " + method + " not allowed on " + path));
            }
            switch (path) {
                case "/health/live" -> {
                    return reply(response, callback, 200, Map.of("zone", replica.zone(), "live", true));
                }
                case "/health/ready" -> {
                    boolean ready = !draining && replica.ready(READY_TIMEOUT);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("zone", replica.zone());
                    body.put("ready", ready);
                    if (draining) {
                        body.put("reason", "draining");
                    } else if (!ready) {
                        body.put("reason", "no quorum: this zone cannot complete a linearizable read now");
                    }
                    return reply(response, callback, ready ? 200 : 503, body);
                }
                case "/admin/v1/status" -> {
                    return reply(response, callback, 200, replica.status());
                }
                case "/admin/v1/backup" -> {
                    if (backups.isEmpty()) {
                        return reply(response, callback, 404, Map.of("error", "zone " + replica.zone() + " has no backups configured"));
                    }
                    return reply(response, callback, 200, backups.get().status());
                }
                case "/admin/v1/digest" -> {
                    return reply(response, callback, 200, replica.digest());
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
                return reply(response, callback, 404, Map.of("error", "zone " + replica.zone() + " has no backups configured"));
            }
            if (!replica.backupSource().leads()) {
                return reply(response, callback, 409, Map.of("error", "zone " + replica.zone() + " does not lead; the leader ("
                        + replica.status().leader() + ") takes backups", "leader", String.valueOf(replica.status().leader())));
            }
            try {
                return reply(response, callback, 200, backups.get().snapshotNow().get(30, TimeUnit.MINUTES));
            } catch (ExecutionException e) {
                return reply(response, callback, 503, Map.of("error", "the snapshot failed: " + e.getCause().getMessage()));
            }
        }

        private boolean reply(Response response, Callback callback, int status, Object body) throws Exception {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            Content.Sink.write(response, true, json.writeValueAsString(body) + "\n", callback);
            return true;
        }
    }
}
