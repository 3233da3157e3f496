package io.petrel.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static java.util.Objects.requireNonNull;

/**
 * The driver's HTTP side: one {@code java.net.http} client (HTTP/1.1 keep-alive) for every caller,
 * the namespace's key as Basic auth, and a record of every answer that was not the expected 200, by
 * status and time, so that a phase can report them by status for its measured window alone.
 */
final class InvokeHttp {
    /** An invocation of the benchmark's actions takes milliseconds (a cold start well under a second): past this, it is stuck. */
    static final Duration TIMEOUT = Duration.ofSeconds(15);

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String basic;

    InvokeHttp(String auth) {
        requireNonNull(auth, "auth");
        this.basic = "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
    }

    /** An answer that was not what a phase expects, and when it came (wall clock, for the window). */
    record Failure(Instant at, String what) {
    }

    /** Failures seen by one phase's callers. */
    static final class Failures {
        private final ConcurrentLinkedQueue<Failure> all = new ConcurrentLinkedQueue<>();

        void add(String what) {
            all.add(new Failure(Instant.now(), what));
        }

        /** Counts by kind ("503", "IOException", "200 with another body") of the failures inside {@code window}. */
        Map<String, Long> within(TimeWindow window) {
            Map<String, Long> counts = new TreeMap<>();
            for (Failure f : all) {
                if (!f.at().isBefore(window.start()) && !f.at().isAfter(window.end())) {
                    counts.merge(f.what(), 1L, Long::sum);
                }
            }
            return counts;
        }
    }

    HttpResponse<String> send(String method, String url, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Authorization", basic);
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A request that must answer {@code expected}; anything else throws with the status and body. */
    String call(String method, String url, String body, int expected) throws IOException, InterruptedException {
        HttpResponse<String> r = send(method, url, body);
        if (r.statusCode() != expected) {
            throw new IOException(method + " " + URI.create(url).getPath() + " answered " + r.statusCode() + ": " + cut(r.body()));
        }
        return r.body();
    }

    /**
     * One warm invocation ({@code ?blocking=true&result=true}) that must answer 200 with {@code {"ok":true}};
     * anything else is recorded in {@code failures} and thrown, so that the closed loop counts it.
     */
    void invokeOk(String url, Failures failures) throws IOException, InterruptedException {
        HttpResponse<String> r;
        try {
            r = send("POST", url, "{}");
        } catch (IOException e) {
            failures.add(e.getClass().getSimpleName());
            throw e;
        }
        if (r.statusCode() != 200) {
            failures.add(String.valueOf(r.statusCode()));
            throw new IOException("answered " + r.statusCode() + ": " + cut(r.body()));
        }
        if (!r.body().contains("\"ok\":true")) {
            failures.add("200 with another body");
            throw new IOException("answered 200 with " + cut(r.body()));
        }
    }

    static String cut(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    /** Every URL of {@code bases} with {@code path}, in order. */
    static List<String> urls(List<String> bases, String path) {
        List<String> urls = new ArrayList<>();
        for (String b : bases) {
            urls.add(b + path);
        }
        return urls;
    }
}
