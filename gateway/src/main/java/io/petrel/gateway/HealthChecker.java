package io.petrel.gateway;

import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Active health checks: every zone's {@code /health/ready} (what the zone says of itself: it can
 * serve linearizable reads and writes now) and every other gateway instance's {@code /health/live},
 * each on its own schedule, one probe at a time per target so a frozen target cannot pile them up.
 */
final class HealthChecker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    private final GatewayConfig config;
    private final List<ZoneState> zones;
    private final HttpClient http;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gateway-health");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Boolean> peersLive = new ConcurrentHashMap<>();
    private volatile boolean closed;

    HealthChecker(GatewayConfig config, List<ZoneState> zones, HttpClient http) {
        this.config = requireNonNull(config, "config");
        this.zones = List.copyOf(zones);
        this.http = requireNonNull(http, "http");
        for (GatewayPeer g : config.gateways()) {
            peersLive.put(g.name(), g.name().equals(config.name()));
        }
    }

    void start() {
        for (ZoneState z : zones) {
            timer.execute(() -> probeZone(z));
        }
        for (GatewayPeer g : config.gateways()) {
            if (!g.name().equals(config.name())) {
                timer.execute(() -> probePeer(g));
            }
        }
    }

    /** The gateway instances that answered their last probe, this one always included. */
    List<GatewayPeer> liveGateways() {
        return config.gateways().stream().filter(g -> g.name().equals(config.name()) || peersLive.getOrDefault(g.name(), false)).toList();
    }

    boolean peerLive(String name) {
        return name.equals(config.name()) || peersLive.getOrDefault(name, false);
    }

    private void probeZone(ZoneState z) {
        if (closed) {
            return;
        }
        long started = System.nanoTime();
        http.newRequest(z.target().readyUrl()).timeout(config.health().timeout().toMillis(), TimeUnit.MILLISECONDS)
                .send(new BufferingResponseListener(4096) {
                    @Override
                    public void onComplete(Result result) {
                        BooleanSupplier elsewhere = () -> zones.stream().anyMatch(o -> o != z && o.routable());
                        if (result.isSucceeded() && result.getResponse().getStatus() == 200) {
                            z.probePassed();
                        } else if (result.isSucceeded()) {
                            String body = getContentAsString();
                            boolean draining = body != null && body.contains("draining");
                            z.probeFailed("ready probe answered " + result.getResponse().getStatus() + (draining ? " (draining)" : ""),
                                    draining ? ZoneState.ProbeFailure.DRAINING : ZoneState.ProbeFailure.UNCERTAIN, elsewhere);
                        } else {
                            Throwable f = result.getFailure();
                            z.probeFailed("ready probe: " + describe(f), isRefused(f) ? ZoneState.ProbeFailure.REFUSED : ZoneState.ProbeFailure.UNCERTAIN,
                                    elsewhere);
                        }
                        next(() -> probeZone(z), started);
                    }
                });
    }

    private void probePeer(GatewayPeer g) {
        if (closed) {
            return;
        }
        long started = System.nanoTime();
        http.newRequest("http://" + g.admin() + "/health/live").timeout(config.health().timeout().toMillis(), TimeUnit.MILLISECONDS)
                .send(result -> {
                    boolean live = result.isSucceeded() && result.getResponse().getStatus() == 200;
                    Boolean before = peersLive.put(g.name(), live);
                    if (before == null || before != live) {
                        LOG.info("gateway {}: gateway {} {}", config.name(), g.name(), live ? "live" : "not answering");
                    }
                    next(() -> probePeer(g), started);
                });
    }

    private void next(Runnable probe, long startedNanos) {
        if (closed) {
            return;
        }
        long waitNanos = config.health().interval().toNanos() - (System.nanoTime() - startedNanos);
        try {
            timer.schedule(probe, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    static boolean isRefused(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectException) {
                return true;
            }
        }
        return false;
    }

    static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    static String describe(Throwable t) {
        if (isRefused(t)) {
            return "connection refused";
        }
        if (isTimeout(t)) {
            return "timed out";
        }
        return t.getClass().getSimpleName() + (t.getMessage() != null ? ": " + t.getMessage() : "");
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
    }
}
