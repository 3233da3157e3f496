package io.petrel.bench;

import io.petrel.api.OpenWhiskApi;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static java.util.Objects.requireNonNull;

/**
 * An open-loop writer against one region: every write stores a new name ({@code <prefix>-<seq>}),
 * sent on a timer at a fixed rate whatever the answers, through an {@link Endpoint} (the zones'
 * OpenWhisk APIs, {@link Api}, or the region's replicated store, {@link DrStoreWriter}). It runs until
 * {@link #stop()}, so that a region can be killed under it, and keeps the time of every
 * acknowledgement by sequence number: after a failover those are the writes whose presence on the new
 * primary the benchmark reads back. The schedule, the bound on outstanding writes, the latency
 * histogram and the acknowledgements are the same for both endpoints, so the two modes differ only in
 * what a write costs.
 */
final class DrWriter {
    /** The action every API write stores: small, as a tenant's deploy would PUT it. */
    static final String BODY = "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){return {}}\"}}";
    static final String AUTH = "Basic " + Base64.getEncoder().encodeToString(OpenWhiskApi.GUEST_AUTH.getBytes(StandardCharsets.UTF_8));
    /** How long a write may stay unanswered before it counts as an error, in both modes (more than the store's own write timeout). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /**
     * One region as the writes and read-backs reach it. Implementations are safe for concurrent use:
     * the writer's callbacks and the read-back's virtual threads share one.
     */
    interface Endpoint extends AutoCloseable {
        /** How the report names this mode: {@code api} or {@code store}. */
        String mode();

        /**
         * Sends write {@code seq} of {@code name} without waiting; the future completes normally once the region
         * acknowledged it and exceptionally (with why) otherwise, within {@link #REQUEST_TIMEOUT}.
         */
        CompletableFuture<?> write(long seq, String name);

        /**
         * Whether the region holds the write of {@code name} (a linearizable read), its zones taken in turn from
         * {@code first} where the mode chooses the zone; throws if the region cannot tell.
         */
        boolean present(String name, int first) throws IOException, InterruptedException;

        @Override
        void close();
    }

    /**
     * The API mode: a {@code PUT ?overwrite=true} of action {@code name} in the guest namespace, the zones'
     * APIs taken in turn, so that every write also costs what a tenant's request costs a zone (HTTP,
     * authentication, validation) before it ends in the same store commit as {@link DrStoreWriter}'s.
     */
    record Api(HttpClient http, DrRegions regions, RegionLayout layout) implements Endpoint {
        Api {
            requireNonNull(http, "http");
            requireNonNull(regions, "regions");
            requireNonNull(layout, "layout");
            if (layout.zones().isEmpty() || !layout.zones().stream().allMatch(z -> Loopback.isLoopbackUrl(z.apiUrl()))) {
                throw new IllegalArgumentException("the writer only writes to loopback zone APIs, not those of " + layout.zones());
            }
        }

        @Override
        public String mode() {
            return "api";
        }

        @Override
        public CompletableFuture<?> write(long seq, String name) {
            ZoneSpec z = layout.zones().get((int) (seq % layout.zones().size()));
            HttpRequest request = HttpRequest.newBuilder(URI.create(z.apiUrl() + "/api/v1/namespaces/guest/actions/" + name + "?overwrite=true"))
                    .timeout(REQUEST_TIMEOUT).header("Authorization", AUTH).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(BODY)).build();
            return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
                if (r.statusCode() != 200) {
                    // Only a 200 acknowledges the write; anything else is an error, with the zone's reason.
                    throw new CompletionException(new IOException("HTTP " + r.statusCode() + " from " + z.apiUrl() + ": " + abbreviate(r.body())));
                }
                return r;
            });
        }

        @Override
        public boolean present(String name, int first) throws IOException, InterruptedException {
            return regions.present(layout, name, first);
        }

        @Override
        public void close() {
            // The HTTP client is the benchmark's, shared by every round.
        }
    }

    /**
     * What the writer saw. Latency runs from each write's scheduled send time to its answer, so a
     * region that falls behind is charged for its queue; {@code dropped} writes were never sent because
     * {@code maxOutstanding} were already unanswered, {@code unfinished} had no answer when the writer
     * stopped waiting.
     */
    record Result(String mode, String prefix, int offeredRate, double seconds, long sent, long acked, long errors, long dropped, long unfinished,
                  Histogram latencyMicros, String firstError) {
        Result {
            requireNonNull(mode, "mode");
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
            return String.format(Locale.ROOT, "%s writes: %,d sent at %,d/s offered over %.1f s, %,d acknowledged (%,.0f/s), %,d errors, %,d not sent "
                            + "(too many outstanding), %,d unanswered; latency p50 %.1f ms, p99 %.1f ms%s", mode, sent, offeredRate, seconds, acked,
                    ackedPerSecond(), errors, dropped, unfinished, latencyMillis(50), latencyMillis(99),
                    firstError == null ? "" : "; first error: " + firstError);
        }
    }

    private final Endpoint endpoint;
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
     * @param endpoint       where the writes go; the caller closes it (after {@link #finish})
     * @param maxOutstanding unanswered writes above which further sends are dropped (and counted), so a
     *                       region that stalls cannot make the driver's memory or connection count grow
     *                       without bound
     */
    DrWriter(Endpoint endpoint, String prefix, int rate, int maxOutstanding) {
        this.endpoint = requireNonNull(endpoint, "endpoint");
        this.prefix = requireNonNull(prefix, "prefix");
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
        return new Result(endpoint.mode(), prefix, rate, seconds, sent.get(), acked.size(), errors.sum(), dropped.sum(), outstanding.get(), latency.copy(),
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
        CompletableFuture<?> write;
        try {
            write = endpoint.write(seq, name(seq));
        } catch (RuntimeException e) {
            // Refused before it was sent (e.g. a closed client): an error like any other, and the timer goes on.
            write = CompletableFuture.failedFuture(e);
        }
        write.whenComplete((r, t) -> {
            long now = System.nanoTime();
            if (t == null) {
                acked.put(seq, now);
                latency.recordValue(Math.min(ClosedLoop.MAX_LATENCY_MICROS, Math.max(0, (now - due) / 1000)));
            } else {
                errors.increment();
                firstError.compareAndSet(null, ClosedLoop.describe(t));
            }
            outstanding.decrementAndGet();
        });
    }

    private static String abbreviate(String s) {
        String one = s == null ? "" : s.replaceAll("\\s+", " ");
        return one.length() <= 200 ? one : one.substring(0, 200) + "...";
    }
}
