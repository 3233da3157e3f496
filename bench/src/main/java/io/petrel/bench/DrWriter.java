package io.petrel.bench;

import io.petrel.api.OpenWhiskApi;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static java.util.Objects.requireNonNull;

/**
 * An open-loop writer against one region's zone APIs: every write is a {@code PUT ?overwrite=true}
 * of a new action name ({@code <prefix>-<seq>}) in the guest namespace, sent on a timer at a fixed
 * rate whatever the answers, the zones taken in turn. It runs until {@link #stop()}, so that a region
 * can be killed under it, and keeps the time of every acknowledgement (a 200) by sequence number:
 * after a failover those are the writes whose presence on the new primary the benchmark reads back.
 */
final class DrWriter {
    /** The action every write stores: small, as a tenant's deploy would PUT it. */
    static final String BODY = "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){return {}}\"}}";
    static final String AUTH = "Basic " + Base64.getEncoder().encodeToString(OpenWhiskApi.GUEST_AUTH.getBytes(StandardCharsets.UTF_8));
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /**
     * What the writer saw. Latency runs from each write's scheduled send time to its answer, so a
     * region that falls behind is charged for its queue; {@code dropped} writes were never sent because
     * {@code maxOutstanding} were already unanswered, {@code unfinished} had no answer when the writer
     * stopped waiting.
     */
    record Result(String prefix, int offeredRate, double seconds, long sent, long acked, long errors, long dropped, long unfinished,
                  Histogram latencyMicros, String firstError) {
        Result {
            requireNonNull(prefix, "prefix");
            requireNonNull(latencyMicros, "latencyMicros");
        }

        double ackedPerSecond() {
            return seconds <= 0 ? Double.NaN : acked / seconds;
        }

        double latencyMillis(double percentile) {
            return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
        }

        String summary() {
            return String.format(Locale.ROOT, "%,d sent at %,d/s offered over %.1f s, %,d acknowledged (%,.0f/s), %,d errors, %,d not sent "
                            + "(too many outstanding), %,d unanswered; latency p50 %.1f ms, p99 %.1f ms%s", sent, offeredRate, seconds, acked,
                    ackedPerSecond(), errors, dropped, unfinished, latencyMillis(50), latencyMillis(99),
                    firstError == null ? "" : "; first error: " + firstError);
        }
    }

    private final HttpClient http;
    private final List<String> zoneApis;
    private final String prefix;
    private final int rate;
    private final int maxOutstanding;
    private final ConcurrentSkipListMap<Long, Long> acked = new ConcurrentSkipListMap<>();
    private final ConcurrentHistogram latency = new ConcurrentHistogram(ClosedLoop.MAX_LATENCY_MICROS, 3);
    private final AtomicLong sent = new AtomicLong();
    private final LongAdder errors = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private volatile boolean stopping;
    private Thread timer;
    private volatile long startedNanos;
    private volatile long stoppedNanos;

    /**
     * @param zoneApis       the region's zone API base URLs ({@code http://host:port}), all loopback
     * @param maxOutstanding unanswered writes above which further sends are dropped (and counted), so a
     *                       region that stalls cannot make the driver's memory or connection count grow
     *                       without bound
     */
    DrWriter(HttpClient http, List<String> zoneApis, String prefix, int rate, int maxOutstanding) {
        this.http = requireNonNull(http, "http");
        this.zoneApis = List.copyOf(zoneApis);
        this.prefix = requireNonNull(prefix, "prefix");
        if (this.zoneApis.isEmpty() || !this.zoneApis.stream().allMatch(Loopback::isLoopbackUrl)) {
            throw new IllegalArgumentException("the writer only writes to loopback zone APIs, not " + zoneApis);
        }
        if (rate < 1 || rate > 100_000) {
            throw new IllegalArgumentException("rate must be 1 to 100,000 writes/s, not " + rate);
        }
        if (maxOutstanding < 1) {
            throw new IllegalArgumentException("maxOutstanding must be positive");
        }
        this.rate = rate;
        this.maxOutstanding = maxOutstanding;
    }

    String name(long seq) {
        return String.format(Locale.ROOT, "%s-%07d", prefix, seq);
    }

    /** Starts sending; the timer runs on a platform thread of its own so that virtual-thread scheduling does not delay sends. */
    synchronized void start() {
        if (timer != null) {
            throw new IllegalStateException("the writer " + prefix + " was started already");
        }
        startedNanos = System.nanoTime();
        timer = Thread.ofPlatform().name("dr-writer-" + prefix).daemon().start(this::schedule);
    }

    /** Stops sending (at once: the writes already sent are still answered); returns when the timer has stopped. */
    void stop() throws InterruptedException {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = timer;
        }
        if (t != null) {
            t.join(TimeUnit.SECONDS.toMillis(5));
        }
    }

    /** Stops sending if it has not yet, waits (at most {@code timeout}) for the answers of what was sent, and says what happened. */
    Result finish(Duration timeout) throws InterruptedException {
        stop();
        long giveUp = System.nanoTime() + timeout.toNanos();
        while (outstanding.get() > 0 && System.nanoTime() < giveUp) {
            Thread.sleep(10);
        }
        double seconds = (stoppedNanos - startedNanos) / 1e9;
        return new Result(prefix, rate, seconds, sent.get(), acked.size(), errors.sum(), dropped.sum(), outstanding.get(), latency.copy(),
                firstError.get());
    }

    /** Acknowledged writes: sequence number to the {@link System#nanoTime()} of the 200. */
    NavigableMap<Long, Long> acked() {
        return acked.clone();
    }

    /** The acknowledged write with the highest sequence number so far (seq, nanoTime of its 200), or null if none yet. */
    Map.Entry<Long, Long> newestAck() {
        return acked.lastEntry();
    }

    private void schedule() {
        long period = TimeUnit.SECONDS.toNanos(1) / rate;
        long start = System.nanoTime();
        try {
            for (long i = 0; !stopping; i++) {
                long due = start + i * period;
                long wait;
                // parkNanos may return early; time moves on, so this ends. Checked every 50 ms at most, so that stop() is prompt.
                while (!stopping && (wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(50)));
                }
                if (stopping) {
                    break;
                }
                if (outstanding.get() >= maxOutstanding) {
                    dropped.increment();
                    continue;
                }
                send(i, due);
            }
        } finally {
            stoppedNanos = System.nanoTime();
        }
    }

    private void send(long seq, long due) {
        outstanding.incrementAndGet();
        sent.incrementAndGet();
        String zone = zoneApis.get((int) (seq % zoneApis.size()));
        HttpRequest request = HttpRequest.newBuilder(URI.create(zone + "/api/v1/namespaces/guest/actions/" + name(seq) + "?overwrite=true"))
                .timeout(REQUEST_TIMEOUT).header("Authorization", AUTH).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(BODY)).build();
        try {
            http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((r, t) -> {
                long now = System.nanoTime();
                if (t == null && r.statusCode() == 200) {
                    acked.put(seq, now);
                    latency.recordValue(Math.min(ClosedLoop.MAX_LATENCY_MICROS, Math.max(0, (now - due) / 1000)));
                } else {
                    errors.increment();
                    firstError.compareAndSet(null, t != null ? ClosedLoop.describe(t)
                            : "HTTP " + r.statusCode() + " from " + zone + ": " + abbreviate(r.body()));
                }
                outstanding.decrementAndGet();
            });
        } catch (RuntimeException e) {
            errors.increment();
            firstError.compareAndSet(null, ClosedLoop.describe(e));
            outstanding.decrementAndGet();
        }
    }

    private static String abbreviate(String s) {
        String one = s == null ? "" : s.replaceAll("\\s+", " ");
        return one.length() <= 200 ? one : one.substring(0, 200) + "...";
    }
}
