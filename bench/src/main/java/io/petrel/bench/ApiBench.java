package io.petrel.bench;

import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The OpenWhisk API end to end on a running local region: authenticated GET, list and update of
 * actions over HTTP/1.1 keep-alive, next to baselines run in the same process against the same
 * zones: {@code GET /ping} (the HTTP server alone: no auth, no store) and the store itself (a
 * linearizable get and a put through {@code RatisStore}, what the API does underneath).
 */
@Command(name = "api-bench", mixinStandardHelpOptions = true,
        description = "Measure the OpenWhisk API of a running local region against HTTP-only and store-only baselines.")
public final class ApiBench implements Callable<Integer> {

    @Option(names = "--petrel-data", required = true, paramLabel = "DIR", description = "data folder of a running local region")
    Path petrelData;

    @Option(names = "--petrel-pids", split = ",", description = "the zones' process ids, for server CPU per request")
    List<Long> petrelPids = List.of();

    @Option(names = "--clients", split = ",", defaultValue = "1,16,64", description = "concurrency levels (default ${DEFAULT-VALUE})")
    List<Integer> clientLevels;

    @Option(names = "--seconds", defaultValue = "8", description = "measured seconds per phase (default ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "2", description = "unmeasured seconds before each phase (default ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--initial-warmup-seconds", defaultValue = "30",
            description = "mixed requests before anything is measured, so the zones' JIT has compiled the hot paths (default ${DEFAULT-VALUE})")
    int initialWarmupSeconds;

    @Option(names = "--actions", defaultValue = "1000", description = "actions created first and then read and updated at random (default ${DEFAULT-VALUE})")
    int actions;

    @Option(names = "--rate", defaultValue = "1000", description = "offered GETs per second for the latency phase (default ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--rate-seconds", defaultValue = "15", description = "measured seconds of the latency phase (default ${DEFAULT-VALUE})")
    int rateSeconds;

    @Option(names = "--report", paramLabel = "FILE", description = "also write the Markdown report here")
    Path report;

    private static final String NAMESPACE = "bench";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    public static void main(String[] args) {
        System.exit(new CommandLine(new ApiBench()).execute(args));
    }

    private record Row(String phase, String target, ClosedLoopResult result) {
    }

    @Override
    public Integer call() throws Exception {
        RegionLayout layout = RegionLayout.load(petrelData);
        String shared = "http://" + layout.sharedApi();
        ZoneSpec zoneA = layout.zones().get(0);
        if (!Loopback.isLoopbackUrl(shared) || !Loopback.isLoopbackUrl(zoneA.apiUrl())) {
            throw new IllegalArgumentException("the benchmark only drives local regions");
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        String auth = namespace(http, shared, Files.readString(layout.adminKeyFile()).trim());
        String basic = "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
        CpuMeter cpu = new CpuMeter(petrelPids);
        Duration warmup = Duration.ofSeconds(warmupSeconds);
        Duration measure = Duration.ofSeconds(seconds);
        String code = "function main(params) { return { greeting: 'hello ' + params.name } }";

        System.out.printf("creating %d actions in namespace %s ...%n", actions, NAMESPACE);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(16)) {
            List<java.util.concurrent.Future<?>> seeded = new ArrayList<>();
            for (long i = 0; i < actions; i++) {
                long n = i;
                seeded.add(pool.submit(() -> {
                    send(http, "PUT", shared + action(n) + "?overwrite=true", basic, body(code, n, 0));
                    return null;
                }));
            }
            for (var f : seeded) {
                f.get();
            }
        }
        List<Row> rows = new ArrayList<>();
        try (PetrelTarget store = PetrelTarget.connect(petrelData)) {
            System.out.printf("warming up for %d s ...%n", initialWarmupSeconds);
            new ClosedLoop(16, Duration.ofSeconds(initialWarmupSeconds), Duration.ofMillis(1), TIMEOUT, CpuMeter.NONE).run("warm", (c, seq) -> {
                long i = ThreadLocalRandom.current().nextLong(actions);
                switch ((int) (seq % 4)) {
                    case 0 -> send(http, "GET", shared + "/ping", null, null);
                    case 1 -> send(http, "GET", shared + action(i), basic, null);
                    case 2 -> send(http, "PUT", shared + action(c) + "?overwrite=true", basic, body(code, c, seq));
                    default -> store.get("ent/" + NAMESPACE + "/actions/action-" + i);
                }
            });

            for (int clients : clientLevels) {
                ClosedLoop loop = new ClosedLoop(clients, warmup, measure, TIMEOUT, cpu);
                rows.add(phase(rows, "GET /ping (HTTP only)", "shared port", clients, loop.run("ping",
                        (c, seq) -> send(http, "GET", shared + "/ping", null, null))));
                rows.add(phase(rows, "GET action (cached auth)", "shared port", clients, loop.run("get",
                        (c, seq) -> send(http, "GET", shared + action(ThreadLocalRandom.current().nextLong(actions)), basic, null))));
                rows.add(phase(rows, "store get (linearizable)", "RatisStore", clients, loop.run("store-get",
                        (c, seq) -> store.get("ent/" + NAMESPACE + "/actions/action-" + ThreadLocalRandom.current().nextLong(actions)))));
                rows.add(phase(rows, "list actions (limit 30)", "shared port", clients, loop.run("list",
                        (c, seq) -> send(http, "GET", shared + "/api/v1/namespaces/_/actions?limit=30", basic, null))));
                // Each client updates its own actions: concurrent updates of one action rightly end in 409s.
                rows.add(phase(rows, "update action (PUT overwrite)", "shared port", clients, loop.run("update", (c, seq) -> {
                    long i = (c + clients * (seq % Math.max(1, actions / clients))) % actions;
                    send(http, "PUT", shared + action(i) + "?overwrite=true", basic, body(code, i, seq));
                })));
                byte[] value = new byte[600];
                rows.add(phase(rows, "store put", "RatisStore", clients, loop.run("store-put",
                        (c, seq) -> store.putAsync("benchput/" + c + "/" + seq, value).get())));
            }
            ClosedLoop direct = new ClosedLoop(16, warmup, measure, TIMEOUT, cpu);
            rows.add(phase(rows, "GET action (cached auth)", "zone a's own port", 16, direct.run("get-direct",
                    (c, seq) -> send(http, "GET", zoneA.apiUrl() + action(ThreadLocalRandom.current().nextLong(actions)), basic, null))));

            OpenLoop fixed = new OpenLoop(rate, warmup, Duration.ofSeconds(rateSeconds), 5_000, TIMEOUT, cpu);
            OpenLoopResult open = fixed.run(n -> http.sendAsync(request("GET", shared + action(n % actions), basic, null),
                    HttpResponse.BodyHandlers.discarding()).thenApply(ApiBench::checked));
            String md = markdown(rows, open);
            System.out.println(md);
            if (report != null) {
                Files.createDirectories(report.toAbsolutePath().getParent());
                Files.writeString(report, md);
            }
        }
        return 0;
    }

    private static Row phase(List<Row> rows, String phase, String target, int clients, ClosedLoopResult r) {
        System.out.printf("%-32s %-18s %3d clients: %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d%s%n", phase, target, clients,
                r.opsPerSecond(), r.percentileMillis(50), r.percentileMillis(99), r.errors(), r.firstError() == null ? "" : " (" + r.firstError() + ")");
        return new Row(phase, target, r);
    }

    private String markdown(List<Row> rows, OpenLoopResult open) {
        StringBuilder s = new StringBuilder();
        s.append("API benchmark, ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\n\n");
        s.append("| phase | target | clients | req/s | p50 (ms) | p99 (ms) | p99.9 (ms) | errors | server CPU per req (ms) |\n");
        s.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            ClosedLoopResult c = r.result();
            s.append(String.format(Locale.ROOT, "| %s | %s | %d | %,.0f | %.2f | %.2f | %.2f | %d | %.3f |%n", r.phase(), r.target(), c.clients(),
                    c.opsPerSecond(), c.percentileMillis(50), c.percentileMillis(99), c.percentileMillis(99.9), c.errors(),
                    c.cpu().serverMillisPer(c.ops())));
        }
        s.append("\nRatios in the same run (throughput; latency p50 in brackets):\n\n");
        s.append("| clients | API GET / ping | API GET / store get | API update / store put |\n|---:|---:|---:|---:|\n");
        for (int clients : clientLevels) {
            ClosedLoopResult ping = find(rows, "GET /ping (HTTP only)", clients);
            ClosedLoopResult get = find(rows, "GET action (cached auth)", clients);
            ClosedLoopResult storeGet = find(rows, "store get (linearizable)", clients);
            ClosedLoopResult update = find(rows, "update action (PUT overwrite)", clients);
            ClosedLoopResult storePut = find(rows, "store put", clients);
            s.append(String.format(Locale.ROOT, "| %d | %.2f (%.2fx) | %.2f (%.2fx) | %.2f (%.2fx) |%n", clients,
                    get.opsPerSecond() / ping.opsPerSecond(), get.percentileMillis(50) / ping.percentileMillis(50),
                    get.opsPerSecond() / storeGet.opsPerSecond(), get.percentileMillis(50) / storeGet.percentileMillis(50),
                    update.opsPerSecond() / storePut.opsPerSecond(), update.percentileMillis(50) / storePut.percentileMillis(50)));
        }
        s.append(String.format(Locale.ROOT, "%nGET action at a fixed %d req/s for %d s (open loop, latency from the scheduled send): "
                        + "p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; %d of %d answered, %d errors, %d dropped%s.%n",
                open.ratePerSecond(), rateSeconds, open.percentileMillis(50), open.percentileMillis(99), open.percentileMillis(99.9),
                open.maxMillis(), open.completed(), open.scheduled(), open.errors(), open.dropped(),
                open.firstError() == null ? "" : " (first error: " + open.firstError() + ")"));
        return s.toString();
    }

    private static ClosedLoopResult find(List<Row> rows, String phase, int clients) {
        return rows.stream().filter(r -> r.phase().equals(phase) && r.result().clients() == clients).findFirst().orElseThrow().result();
    }

    private static String action(long i) {
        return "/api/v1/namespaces/_/actions/action-" + i;
    }

    private static String body(String code, long i, long version) {
        return "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"" + code + "\"},\"parameters\":[{\"key\":\"n\",\"value\":" + version + "}],"
                + "\"annotations\":[{\"key\":\"index\",\"value\":" + i + "}]}";
    }

    /** A namespace for the benchmark, made through the admin API (again on every run: a fresh key). */
    private static String namespace(HttpClient http, String api, String adminKey) throws Exception {
        String admin = "Bearer " + adminKey;
        HttpResponse<String> exists = http.send(request("GET", api + "/admin/v1/namespaces/" + NAMESPACE, admin, null),
                HttpResponse.BodyHandlers.ofString());
        String path = exists.statusCode() == 200 ? "/admin/v1/namespaces/" + NAMESPACE + "/keys" : "/admin/v1/namespaces";
        HttpResponse<String> created = http.send(request("POST", api + path, admin,
                exists.statusCode() == 200 ? null : "{\"name\":\"" + NAMESPACE + "\"}"), HttpResponse.BodyHandlers.ofString());
        if (created.statusCode() != 201) {
            throw new IOException("cannot create the benchmark's namespace: " + created.statusCode() + " " + created.body());
        }
        String body = created.body();
        int at = body.indexOf("\"auth\":\"") + 8;
        return body.substring(at, body.indexOf('"', at));
    }

    private static HttpRequest request(String method, String url, String authorization, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return b.build();
    }

    private static void send(HttpClient http, String method, String url, String authorization, String body) throws Exception {
        checked(http.send(request(method, url, authorization, body), HttpResponse.BodyHandlers.discarding()));
    }

    private static <T> HttpResponse<T> checked(HttpResponse<T> r) {
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(r.request().method() + " " + r.uri().getPath() + " answered " + r.statusCode());
        }
        return r;
    }
}
