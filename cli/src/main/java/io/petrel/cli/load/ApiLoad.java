package io.petrel.cli.load;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * Steady load on a region's API as users send it: readers GET actions that exist, writers PUT new
 * actions (each remembered once acknowledged). Every client is its own HTTP client, so it holds at
 * most one keep-alive connection: a failure can be pinned to the connection it happened on. Nothing
 * is retried here: every failure a user would see is counted. Used by {@code petrel load} and by
 * the fault tests.
 */
public final class ApiLoad implements AutoCloseable {
    /** A failed request: when, what, and what the user saw. */
    public record Failure(long atNanos, int client, String what) {
    }

    private final String base;
    private final String authHeader;
    /** Names this load's actions, so that loads one after another in one region never meet. */
    private final String run = Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final List<String> readable;
    private final List<Failure> failures = new CopyOnWriteArrayList<>();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final Map<String, AtomicLong> servedBy = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> gateways = new ConcurrentHashMap<>();

    private ApiLoad(String base, String auth, List<String> readable) {
        this.base = requireNonNull(base, "base");
        this.authHeader = "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
        this.readable = List.copyOf(readable);
    }

    /** Creates {@code seed} actions to read, then starts {@code readers} and {@code writers} clients against {@code base}. */
    public static ApiLoad start(String base, String auth, int readers, int writers, int seed) throws Exception {
        List<String> names = new ArrayList<>();
        ApiLoad probe = new ApiLoad(base, auth, List.of());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        for (int i = 0; i < seed; i++) {
            String name = "seed-" + probe.run + "-" + i;
            HttpResponse<String> r = probe.put(http, name);
            if (r.statusCode() != 200) {
                throw new IllegalStateException("seeding " + name + " answered " + r.statusCode() + ": " + r.body());
            }
            names.add(name);
        }
        ApiLoad load = new ApiLoad(base, auth, names);
        for (int c = 0; c < readers + writers; c++) {
            boolean writer = c >= readers;
            int client = c;
            load.threads.add(Thread.ofPlatform().name("load-" + c).start(() -> load.run(client, writer)));
        }
        return load;
    }

    private void run(int client, boolean writer) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        int n = 0;
        while (running.get()) {
            String what = "";
            try {
                HttpResponse<String> r;
                if (writer) {
                    String name = "w-" + run + "-" + client + "-" + n++;
                    what = "PUT " + name;
                    r = put(http, name);
                    if (r.statusCode() == 200) {
                        acknowledged.add(name);
                        writes.incrementAndGet();
                    }
                } else {
                    String name = readable.get(ThreadLocalRandom.current().nextInt(readable.size()));
                    what = "GET " + name;
                    r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/_/actions/" + name))
                            .timeout(Duration.ofSeconds(30)).header("Authorization", authHeader).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        reads.incrementAndGet();
                    }
                }
                r.headers().firstValue("X-Petrel-Zone").ifPresent(z -> servedBy.computeIfAbsent(z, k -> new AtomicLong()).incrementAndGet());
                r.headers().firstValue("X-Petrel-Gateway").ifPresent(g -> gateways.computeIfAbsent(g, k -> new AtomicLong()).incrementAndGet());
                if (r.statusCode() != 200) {
                    failures.add(new Failure(System.nanoTime(), client, what + " -> " + r.statusCode() + " " + abbreviate(r.body())));
                }
            } catch (IOException e) {
                failures.add(new Failure(System.nanoTime(), client, what + " -> " + e));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private HttpResponse<String> put(HttpClient http, String name) throws IOException, InterruptedException {
        String body = "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(){return {n:'" + name + "'}}\"}}";
        return http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/_/actions/" + name))
                .timeout(Duration.ofSeconds(30)).header("Authorization", authHeader).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    /** An action this load created before it started, to read. */
    public String seeded(int i) {
        return readable.get(i % readable.size());
    }

    public List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** Requests that failed so far. */
    public int failureCount() {
        return failures.size();
    }

    public long reads() {
        return reads.get();
    }

    public long writes() {
        return writes.get();
    }

    /** Answers by the zone that served them ({@code X-Petrel-Zone}). */
    public Map<String, Long> servedBy() {
        return counts(servedBy);
    }

    /** Answers by the gateway instance they came through ({@code X-Petrel-Gateway}). */
    public Map<String, Long> gateways() {
        return counts(gateways);
    }

    private static Map<String, Long> counts(Map<String, AtomicLong> counters) {
        Map<String, Long> out = new java.util.TreeMap<>();
        counters.forEach((z, n) -> out.put(z, n.get()));
        return out;
    }

    /** The acknowledged writes that cannot be read back now (none, if nothing acknowledged was lost). */
    public List<String> unreadable() throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<String> missing = new ArrayList<>();
        for (String name : acknowledged) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/_/actions/" + name))
                        .timeout(Duration.ofSeconds(30)).header("Authorization", authHeader).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() != 200) {
                    missing.add(name + " (" + r.statusCode() + ")");
                }
            } catch (IOException e) {
                missing.add(name + " (" + e + ")");
            }
        }
        return missing;
    }

    /** Stops the clients and waits for their last requests. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(60_000);
        }
    }
}
