package io.petrel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The region's disaster-recovery view, from its zones: every {@code dr.interval.ms} each zone's
 * {@code /admin/v1/dr} is polled, one poll at a time per zone, and the region's view is the answer
 * of highest epoch among the zones that answered within the last three intervals (see
 * {@link DrView#combine}). A zone that refuses the connection or does not serve the path (404) drops
 * out at once; one that times out keeps its last answer until that answer is too old, so a zone
 * that is merely slow a moment does not make the view flicker.
 */
final class DrPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DrPoller.class);
    private static final int STALE_AFTER_INTERVALS = 3;

    /** A zone's last answer and when it came (nanoTime). */
    private record Report(DrView view, long atNanos) {
    }

    private final GatewayConfig config;
    private final List<ZoneTarget> zones;
    private final HttpClient http;
    private final ObjectMapper json;
    private final LongSupplier nanoClock;
    private final Map<String, Report> reports = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gateway-dr");
        t.setDaemon(true);
        return t;
    });
    private volatile Optional<DrView> last = Optional.empty();
    private volatile boolean closed;

    DrPoller(GatewayConfig config, HttpClient http, ObjectMapper json, LongSupplier nanoClock) {
        this.config = requireNonNull(config, "config");
        this.zones = config.zones();
        this.http = requireNonNull(http, "http");
        this.json = requireNonNull(json, "json");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
    }

    void start() {
        for (ZoneTarget z : zones) {
            timer.execute(() -> poll(z));
        }
    }

    /** The region's DR view now, or empty while no zone has answered recently. Never blocks. */
    Optional<DrView> view() {
        long now = nanoClock.getAsLong();
        long staleNanos = config.dr().interval().toNanos() * STALE_AFTER_INTERVALS;
        return DrView.combine(reports.values().stream().filter(r -> now - r.atNanos() <= staleNanos).map(Report::view).toList());
    }

    private void poll(ZoneTarget z) {
        if (closed) {
            return;
        }
        long started = nanoClock.getAsLong();
        http.newRequest("http://" + z.health() + "/admin/v1/dr").timeout(config.dr().timeout().toMillis(), TimeUnit.MILLISECONDS)
                .send(new BufferingResponseListener(16 * 1024) {
                    @Override
                    public void onComplete(Result result) {
                        if (result.isSucceeded() && result.getResponse().getStatus() == 200) {
                            Optional<DrView> v = parse(getContentAsString());
                            if (v.isPresent()) {
                                reports.put(z.zone(), new Report(v.get(), nanoClock.getAsLong()));
                            } else {
                                reports.remove(z.zone());
                            }
                        } else if (result.isSucceeded() || HealthChecker.isRefused(result.getFailure())) {
                            reports.remove(z.zone()); // it answered without a view (404: no DR here), or it is gone
                        }
                        changed();
                        next(z, started);
                    }
                });
    }

    private Optional<DrView> parse(String body) {
        try {
            return DrView.fromJson(json.readTree(body), config.region());
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** Logs the region's view when its role, epoch or writability changes: one line per change. */
    private synchronized void changed() {
        Optional<DrView> now = view();
        Optional<DrView> before = last;
        boolean same = now.isPresent() == before.isPresent() && (now.isEmpty() || (now.get().role() == before.get().role()
                && now.get().epoch() == before.get().epoch() && now.get().writable() == before.get().writable()));
        if (!same) {
            last = now;
            LOG.info("gateway {}: region {} DR view now {}", config.name(), config.region(), now.map(v -> v.role() + " epoch " + v.epoch()
                    + (v.writable() ? " writable" : " not writable") + (v.primary() != null ? ", primary " + v.primary() : "")).orElse("unknown"));
        }
    }

    private void next(ZoneTarget z, long startedNanos) {
        if (closed) {
            return;
        }
        long waitNanos = config.dr().interval().toNanos() - (nanoClock.getAsLong() - startedNanos);
        try {
            timer.schedule(() -> poll(z), Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
    }
}
