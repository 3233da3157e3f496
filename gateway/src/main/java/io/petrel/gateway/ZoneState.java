package io.petrel.gateway;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * What one gateway instance believes of one zone: whether its health probes pass ({@link #up()}),
 * whether requests that failed on it have ejected it for a while, and how many requests it holds
 * now. A zone receives new requests only while it is {@link #routable}.
 *
 * <p>Attempts that wait on the zone register here, so that the moment the zone is found dead or
 * frozen they are cut and retried elsewhere instead of waiting out their timeout.
 */
final class ZoneState {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneState.class);

    /** An attempt in flight on this zone that may be cut and retried elsewhere. */
    interface Abortable {
        void abort(String reason);
    }

    private final ZoneTarget target;
    private final String gateway;
    private final GatewayConfig.Health settings;
    private final LongSupplier nanoClock;
    private final GatewayMetrics metrics;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Set<Abortable> waiting = ConcurrentHashMap.newKeySet();

    private volatile boolean up;
    private volatile long ejectedUntil;
    private volatile String reason = "not probed yet";
    private volatile long lastChangeMillis = System.currentTimeMillis();
    private int probeFailures;
    private int probeSuccesses;
    private int requestFailures;

    ZoneState(ZoneTarget target, String gateway, GatewayConfig.Health settings, LongSupplier nanoClock, GatewayMetrics metrics) {
        this.target = requireNonNull(target, "target");
        this.gateway = requireNonNull(gateway, "gateway");
        this.settings = requireNonNull(settings, "settings");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    ZoneTarget target() {
        return target;
    }

    String zone() {
        return target.zone();
    }

    boolean up() {
        return up;
    }

    boolean ejected() {
        return nanoClock.getAsLong() - ejectedUntil < 0;
    }

    boolean routable() {
        return up && !ejected();
    }

    int inFlight() {
        return inFlight.get();
    }

    String reason() {
        return reason;
    }

    long lastChangeMillis() {
        return lastChangeMillis;
    }

    void begin(Abortable attempt) {
        inFlight.incrementAndGet();
        if (attempt != null) {
            waiting.add(attempt);
        }
    }

    /** The attempt has its answer (or failed): it no longer waits on the zone. */
    void answered(Abortable attempt) {
        if (attempt != null) {
            waiting.remove(attempt);
        }
    }

    void end() {
        inFlight.decrementAndGet();
    }

    /** The zone said it is ready. */
    synchronized void probePassed() {
        probeFailures = 0;
        probeSuccesses++;
        if (!up && probeSuccesses >= settings.rise()) {
            up = true;
            requestFailures = 0;
            change("ready");
        }
    }

    /** How a failed probe judged the zone. */
    enum ProbeFailure {
        /** The zone refuses connections: it is gone, and so are the requests it held. */
        REFUSED,
        /** The zone says it is stopping: it takes no new requests but finishes those it holds. */
        DRAINING,
        /** A timeout, no quorum, an error answer: perhaps a moment's trouble. */
        UNCERTAIN
    }

    /**
     * A probe failed. A refused connection or a draining zone takes it out at once; an uncertain
     * failure only after {@code health.fall} in a row. Attempts waiting on it are cut (and retried
     * elsewhere) when it refuses connections, or when it went down uncertainly and {@code elsewhere}
     * says another zone can take them: while the store elects a leader every zone's probe fails a
     * moment, and the requests waiting in a zone are best left to finish there. A draining zone's
     * waiting attempts are never cut: it answers them before it stops, and cutting one whose answer
     * had begun would fail a request the zone served.
     */
    synchronized void probeFailed(String why, ProbeFailure failure, java.util.function.BooleanSupplier elsewhere) {
        probeSuccesses = 0;
        probeFailures++;
        if (up && (failure != ProbeFailure.UNCERTAIN || probeFailures >= settings.fall())) {
            up = false;
            change("down: " + why);
            if (failure == ProbeFailure.REFUSED || (failure == ProbeFailure.UNCERTAIN && elsewhere.getAsBoolean())) {
                abortWaiting("zone " + zone() + " is down (" + why + ")");
            }
        } else if (!up) {
            reason = "down: " + why;
        }
    }

    /** A request reached the zone and got an answer that is not a failure of the zone. */
    synchronized void requestSucceeded() {
        requestFailures = 0;
    }

    /**
     * A request failed on the zone (it refused the connection, cut it, or answered 5xx): after
     * {@code eject.after.failures} in a row, or at once for a refused connection, the zone is ejected
     * for {@code eject.ms} even though its probes may still pass.
     */
    synchronized void requestFailed(String why, boolean definite) {
        requestFailures++;
        if ((definite || requestFailures >= settings.ejectAfterFailures()) && !ejected()) {
            ejectedUntil = nanoClock.getAsLong() + settings.ejection().toNanos();
            requestFailures = 0;
            metrics.ejection(zone(), definite ? "connection" : "failures");
            LOG.warn("gateway {}: zone {} ejected for {} ms ({})", gateway, zone(), settings.ejection().toMillis(), why);
            abortWaiting("zone " + zone() + " was ejected (" + why + ")");
        }
    }

    private void change(String what) {
        reason = what;
        lastChangeMillis = System.currentTimeMillis();
        LOG.info("gateway {}: zone {} {}", gateway, zone(), what);
    }

    private void abortWaiting(String why) {
        for (Abortable a : waiting) {
            a.abort(why);
        }
    }
}
