package io.petrel.bench;

import io.petrel.cli.local.GatewaySpec;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static java.util.Objects.requireNonNull;

/**
 * The gateway (the region's HTTP reverse proxy) against the zones called directly and against
 * HAProxy in front of the same three zones, all in one run on one machine: authenticated GETs of
 * actions at several concurrencies and at a fixed rate, {@code GET /ping} (the proxy without the
 * store behind the zone), and the gateway's DNS answers per second. Targets take turns at every
 * level, and the order rotates, so that warm-up and the other engineer's noise on the machine do
 * not favour one of them.
 */
@Command(name = "gateway-bench", mixinStandardHelpOptions = true,
        description = "Measure a local region's gateway against direct zone calls and HAProxy, and its DNS.")
public final class GatewayBench implements Callable<Integer> {

    @Option(names = "--petrel-data", required = true, paramLabel = "DIR", description = "data folder of a running local region")
    Path petrelData;

    @Option(names = "--gateway", defaultValue = "g1", description = "the gateway instance measured, on its own address (default ${DEFAULT-VALUE})")
    String gatewayName;

    @Option(names = "--haproxy-url", defaultValue = "http://127.64.0.20:3233", description = "HAProxy's frontend (default ${DEFAULT-VALUE})")
    String haproxyUrl;

    @Option(names = "--haproxy-pid", description = "HAProxy's process id, for its CPU per request")
    Long haproxyPid;

    @Option(names = "--haproxy-threads", defaultValue = "2", description = "nbthread in haproxy.cfg, for the report (default ${DEFAULT-VALUE})")
    int haproxyThreads;

    @Option(names = "--haproxy-version", defaultValue = "unknown", description = "for the report")
    String haproxyVersion;

    @Option(names = "--clients", split = ",", defaultValue = "1,16,64", description = "concurrency levels of the GET phases (default ${DEFAULT-VALUE})")
    List<Integer> clientLevels;

    @Option(names = "--ping-clients", defaultValue = "16", description = "clients of the GET /ping phase (default ${DEFAULT-VALUE})")
    int pingClients;

    @Option(names = "--seconds", defaultValue = "8", description = "measured seconds per phase (default ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "2", description = "unmeasured seconds before each phase (default ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--initial-warmup-seconds", defaultValue = "20",
            description = "requests to all targets in turn before anything is measured, so every JVM has compiled its hot paths (default ${DEFAULT-VALUE})")
    int initialWarmupSeconds;

    @Option(names = "--actions", defaultValue = "200", description = "actions created first and then read at random (default ${DEFAULT-VALUE})")
    int actions;

    @Option(names = "--rate", defaultValue = "500", description = "offered GETs per second in the latency phase (default ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--rate-seconds", defaultValue = "10", description = "measured seconds of the latency phase, per target (default ${DEFAULT-VALUE})")
    int rateSeconds;

    @Option(names = "--dns-clients", split = ",", defaultValue = "1,16", description = "concurrency levels of the DNS phases (default ${DEFAULT-VALUE})")
    List<Integer> dnsClientLevels;

    @Option(names = "--dns-seconds", defaultValue = "8", description = "measured seconds per DNS phase (default ${DEFAULT-VALUE})")
    int dnsSeconds;

    @Option(names = "--report", paramLabel = "FILE", description = "also write the Markdown report here")
    Path report;

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration DNS_TIMEOUT = Duration.ofSeconds(1);
    private static final String GET = "GET action";
    private static final String PING = "GET /ping";
    private static final String DIRECT = "direct";
    private static final String HAPROXY = "haproxy";
    private static final String GATEWAY = "gateway";

    public static void main(String[] args) {
        System.exit(new CommandLine(new GatewayBench()).execute(args));
    }

    /**
     * One way to reach the zones. Requests are built once, so that building them costs the driver
     * nothing during a phase; {@code bases} are used in turn (the direct target's client spreads its
     * requests over the zones itself).
     *
     * @param gatewayHeader the {@code X-Petrel-Gateway} every answer must carry, or null when it must carry none
     */
    private record Endpoint(String name, List<String> bases, HttpClient http, CpuMeter proxyCpu, String gatewayHeader,
                            List<HttpRequest> gets, List<HttpRequest> pings) {
        Endpoint {
            requireNonNull(name, "name");
            bases = List.copyOf(bases);
            requireNonNull(http, "http");
            requireNonNull(proxyCpu, "proxyCpu");
            gets = List.copyOf(gets);
            pings = List.copyOf(pings);
            if (bases.isEmpty() || gets.size() % bases.size() != 0 || pings.size() != bases.size()) {
                throw new IllegalArgumentException("an endpoint needs a request per base address");
            }
        }

        static Endpoint of(String name, List<String> bases, HttpClient http, CpuMeter proxyCpu, String gatewayHeader, int actions, String auth) {
            List<HttpRequest> gets = new ArrayList<>();
            for (int a = 0; a < actions; a++) {
                for (String b : bases) {
                    gets.add(request("GET", b + action(a), auth, null));
                }
            }
            return new Endpoint(name, bases, http, proxyCpu, gatewayHeader, gets,
                    bases.stream().map(b -> request("GET", b + "/ping", null, null)).toList());
        }

        HttpRequest get(long action, long spread) {
            int n = bases.size();
            return gets.get((int) (Math.floorMod(action, (long) gets.size() / n) * n + Math.floorMod(spread, n)));
        }

        HttpRequest ping(long spread) {
            return pings.get(Math.floorMod(spread, bases.size()));
        }

        HttpResponse<Void> send(HttpRequest r) throws IOException, InterruptedException {
            return check(http.send(r, HttpResponse.BodyHandlers.discarding()));
        }

        CompletableFuture<HttpResponse<Void>> sendAsync(HttpRequest r) {
            return http.sendAsync(r, HttpResponse.BodyHandlers.discarding()).thenApply(this::check);
        }

        /** A 200, and from the proxy the request was meant to go through (never one standing in for another). */
        private <T> HttpResponse<T> check(HttpResponse<T> r) {
            if (r.statusCode() != 200) {
                throw new IllegalStateException(name + ": " + r.request().method() + " " + r.uri().getPath() + " answered " + r.statusCode());
            }
            String via = r.headers().firstValue("X-Petrel-Gateway").orElse(null);
            if (!Objects.equals(via, gatewayHeader)) {
                throw new IllegalStateException(name + ": answered with X-Petrel-Gateway " + via + ", expected " + gatewayHeader);
            }
            return r;
        }
    }

    private record Row(String workload, int clients, String target, ClosedLoopResult result) {
        Row {
            requireNonNull(workload, "workload");
            requireNonNull(target, "target");
            requireNonNull(result, "result");
        }
    }

    private record OpenRow(String target, OpenLoopResult result) {
        OpenRow {
            requireNonNull(target, "target");
            requireNonNull(result, "result");
        }
    }

    @Override
    public Integer call() throws Exception {
        String loadBefore = loadAverage();
        RegionLayout layout = RegionLayout.load(petrelData);
        GatewaySpec gw = layout.gateway(gatewayName);
        List<String> zoneUrls = layout.zones().stream().map(ZoneSpec::apiUrl).toList();
        List<String> all = new ArrayList<>(zoneUrls);
        all.add(haproxyUrl);
        all.add(gw.apiUrl());
        for (String u : all) {
            if (!Loopback.isLoopbackUrl(u)) {
                throw new IllegalArgumentException("the benchmark only drives this machine's loopback addresses, not " + u);
            }
        }
        String auth = "Basic " + Base64.getEncoder().encodeToString(io.petrel.api.OpenWhiskApi.GUEST_AUTH.getBytes(StandardCharsets.UTF_8));
        Long gatewayPid = pid(gw.dataDir().resolve("gateway.pid"));
        CpuMeter haproxyCpu = haproxyPid == null ? CpuMeter.NONE : new CpuMeter(List.of(haproxyPid));
        CpuMeter gatewayCpu = gatewayPid == null ? CpuMeter.NONE : new CpuMeter(List.of(gatewayPid));
        // A client per target, so that no target's connections wait behind another's in one pool.
        List<Endpoint> targets = List.of(
                Endpoint.of(DIRECT, zoneUrls, client(), CpuMeter.NONE, null, actions, auth),
                Endpoint.of(HAPROXY, List.of(haproxyUrl), client(), haproxyCpu, null, actions, auth),
                Endpoint.of(GATEWAY, List.of(gw.apiUrl()), client(), gatewayCpu, gw.name(), actions, auth));

        seed(targets.get(0).http(), zoneUrls.get(0), auth);
        for (Endpoint t : targets) {
            probe(t);
        }

        System.out.printf("warming up all targets in turn for %d s ...%n", initialWarmupSeconds);
        Map<String, Map<String, LongAdder>> spread = new ConcurrentHashMap<>();
        ClosedLoopResult warm = new ClosedLoop(16, Duration.ZERO, Duration.ofSeconds(initialWarmupSeconds), TIMEOUT, CpuMeter.NONE)
                .run("warm", (c, seq) -> {
                    Endpoint t = targets.get((int) ((c + seq) % targets.size()));
                    HttpRequest r = seq % 5 == 0 ? t.ping(c + seq / targets.size()) : t.get(ThreadLocalRandom.current().nextInt(actions), c + seq);
                    HttpResponse<Void> answer = t.send(r);
                    String zone = answer.headers().firstValue("X-Petrel-Zone").orElse("(none)");
                    spread.computeIfAbsent(t.name(), k -> new ConcurrentHashMap<>()).computeIfAbsent(zone, k -> new LongAdder()).increment();
                });
        System.out.printf("warm-up: %,d requests, %d errors%s; zones answering through each proxy: %s%n", warm.ops(), warm.errors(),
                warm.firstError() == null ? "" : " (" + warm.firstError() + ")", spreadText(spread));

        Duration idle = Duration.ofSeconds(2L * Math.max(1, warmupSeconds));
        List<String> idleCpu = new ArrayList<>();
        idleCpu.add("after the warm-up: " + idleCpu(targets, idle));

        Duration warmup = Duration.ofSeconds(warmupSeconds);
        Duration measure = Duration.ofSeconds(seconds);
        List<Row> rows = new ArrayList<>();
        List<String> order = new ArrayList<>();
        int round = 0;
        for (int clients : clientLevels) {
            for (Endpoint t : rotated(targets, round++)) {
                ClosedLoop loop = new ClosedLoop(clients, warmup, measure, TIMEOUT, t.proxyCpu());
                rows.add(phase(order, GET, t.name(), clients, loop.run("get-" + t.name(),
                        (c, seq) -> t.send(t.get(ThreadLocalRandom.current().nextInt(actions), c + seq)))));
            }
        }
        for (Endpoint t : rotated(targets, round++)) {
            ClosedLoop loop = new ClosedLoop(pingClients, warmup, measure, TIMEOUT, t.proxyCpu());
            rows.add(phase(order, PING, t.name(), pingClients, loop.run("ping-" + t.name(), (c, seq) -> t.send(t.ping(c + seq)))));
        }
        List<OpenRow> open = new ArrayList<>();
        for (Endpoint t : rotated(targets, round++)) {
            OpenLoop fixed = new OpenLoop(rate, warmup, Duration.ofSeconds(rateSeconds), 5_000, TIMEOUT, t.proxyCpu());
            OpenLoopResult r = fixed.run(n -> t.sendAsync(t.get(n % actions, n)));
            order.add(String.format(Locale.ROOT, "%s at %d/s on %s", GET, rate, t.name()));
            System.out.printf("%-12s at %5d/s   %-8s: p50 %6.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  %d of %d answered, errors %d%s%n", GET, rate,
                    t.name(), r.percentileMillis(50), r.percentileMillis(99), r.percentileMillis(99.9), r.completed(), r.scheduled(),
                    r.errors(), r.firstError() == null ? "" : " (" + r.firstError() + ")");
            open.add(new OpenRow(t.name(), r));
        }
        idleCpu.add("after the HTTP phases: " + idleCpu(targets, idle));

        InetSocketAddress dnsServer = new InetSocketAddress(InetAddress.getByName(gw.host()), gw.dnsPort());
        if (!Loopback.isLoopbackHost(gw.host())) {
            throw new IllegalArgumentException("the benchmark only queries DNS on this machine's loopback addresses, not " + gw.host());
        }
        Set<InetAddress> zoneAddresses = new LinkedHashSet<>();
        for (ZoneSpec z : layout.zones()) {
            zoneAddresses.add(InetAddress.getByName(z.host()));
        }
        List<Row> dns = new ArrayList<>();
        int dnsWarmClients = 4;
        try (DnsLoad load = new DnsLoad(dnsServer, layout.apiName(), zoneAddresses, dnsWarmClients, DNS_TIMEOUT)) {
            ClosedLoopResult w = new ClosedLoop(dnsWarmClients, Duration.ZERO, Duration.ofSeconds(Math.max(2, initialWarmupSeconds / 4)),
                    DNS_TIMEOUT, CpuMeter.NONE).run("dns-warm", load);
            System.out.printf("DNS warm-up: %,d queries, %d errors%s%n", w.ops(), w.errors(), w.firstError() == null ? "" : " (" + w.firstError() + ")");
        }
        for (int clients : dnsClientLevels) {
            try (DnsLoad load = new DnsLoad(dnsServer, layout.apiName(), zoneAddresses, clients, DNS_TIMEOUT)) {
                ClosedLoop loop = new ClosedLoop(clients, warmup, Duration.ofSeconds(dnsSeconds), DNS_TIMEOUT, gatewayCpu);
                dns.add(phase(order, "DNS A " + layout.apiName(), GATEWAY, clients, loop.run("dns", load)));
            }
        }

        String md = markdown(layout, gw, rows, open, dns, spread, order, idle, idleCpu, loadBefore, loadAverage(), gatewayPid);
        System.out.println(md);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.writeString(report, md);
        }
        return 0;
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private void seed(HttpClient http, String zone, String auth) throws Exception {
        System.out.printf("creating %d actions through %s ...%n", actions, zone);
        String body = "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(){}\"}}";
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < actions; i++) {
                HttpRequest put = request("PUT", zone + action(i) + "?overwrite=true", auth, body);
                done.add(pool.submit(() -> {
                    HttpResponse<String> r = http.send(put, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                        throw new IOException("PUT " + put.uri().getPath() + " answered " + r.statusCode() + ": " + r.body());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** One GET and one ping through each target before anything is timed, so a misrouted proxy fails the run at once. */
    private static void probe(Endpoint t) throws Exception {
        Exception last = null;
        // HAProxy's first health checks, and the gateway's, may still be on their way: a few seconds' grace.
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                HttpResponse<Void> r = t.send(t.get(0, attempt));
                t.send(t.ping(attempt));
                System.out.printf("%-8s %s: %d, X-Petrel-Gateway %s, X-Petrel-Zone %s%n", t.name(), r.uri(), r.statusCode(),
                        r.headers().firstValue("X-Petrel-Gateway").orElse("-"), r.headers().firstValue("X-Petrel-Zone").orElse("-"));
                return;
            } catch (IOException | IllegalStateException e) {
                last = e;
                Thread.sleep(250);
            }
        }
        throw new IOException(t.name() + " does not answer GET and /ping: " + ClosedLoop.describe(last), last);
    }

    private static List<Endpoint> rotated(List<Endpoint> targets, int by) {
        List<Endpoint> r = new ArrayList<>(targets);
        java.util.Collections.rotate(r, -(by % targets.size()));
        return r;
    }

    private static Row phase(List<String> order, String workload, String target, int clients, ClosedLoopResult r) {
        order.add(workload + ", " + clients(clients) + ", " + target);
        System.out.printf("%-12s %3d clients %-8s: %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d%s%n", workload.startsWith("DNS") ? "DNS" : workload,
                clients, target, r.opsPerSecond(), r.percentileMillis(50), r.percentileMillis(99), r.errors(),
                r.firstError() == null ? "" : " (" + r.firstError() + ")");
        return new Row(workload, clients, target, r);
    }

    private String markdown(RegionLayout layout, GatewaySpec gw, List<Row> rows, List<OpenRow> open, List<Row> dns,
                            Map<String, Map<String, LongAdder>> spread, List<String> order, Duration idle, List<String> idleCpu,
                            String loadBefore, String loadAfter, Long gatewayPid) {
        StringBuilder s = new StringBuilder();
        s.append("Gateway benchmark, ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\n\n");
        s.append(String.format(Locale.ROOT, "Targets: **direct** (the driver spreads requests in turn over %s), **haproxy** %s (%s, nbthread %d, "
                        + "balance leastconn, http-reuse always), **gateway** %s on %s (one instance; its JVM may use every core). "
                        + "%d cores; load average before %s, after %s. %d s warm-up + %d s measured per phase.%n%n",
                String.join(", ", layout.zones().stream().map(z -> z.host() + ":" + z.apiPort()).toList()), haproxyUrl, haproxyVersion,
                haproxyThreads, gw.name(), gw.apiUrl(), Runtime.getRuntime().availableProcessors(), loadBefore, loadAfter,
                warmupSeconds, seconds));

        s.append("| workload | clients | target | req/s | p50 (ms) | p99 (ms) | p99.9 (ms) | added p50 (ms) | proxy CPU per req (ms) | driver CPU per req (ms) | errors |\n");
        s.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            ClosedLoopResult c = r.result();
            ClosedLoopResult direct = find(rows, r.workload(), r.clients(), DIRECT);
            s.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %.2f | %.2f | %.2f | %s | %s | %.3f | %d |%n", r.workload(), r.clients(),
                    r.target(), number(c.opsPerSecond(), 0), c.percentileMillis(50), c.percentileMillis(99), c.percentileMillis(99.9),
                    r.target().equals(DIRECT) ? "–" : signed(c.percentileMillis(50) - direct.percentileMillis(50)),
                    cpu(c.cpu().serverSeconds(), c.ops(), c.seconds()), c.cpu().clientMillisPer(c.ops()), c.errors()));
        }

        OpenLoopResult directOpen = findOpen(open, DIRECT);
        s.append(String.format(Locale.ROOT, "%n%s at a fixed %,d req/s for %d s per target (open loop, latency from the scheduled send):%n%n",
                GET, rate, rateSeconds));
        s.append("| target | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | added p50 (ms) | added p99 (ms) | answered of sent | proxy CPU per req (ms) |\n");
        s.append("|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for (OpenRow o : open) {
            OpenLoopResult r = o.result();
            boolean isDirect = o.target().equals(DIRECT);
            s.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f | %s | %s | %s | %s |%n", o.target(), r.percentileMillis(50),
                    r.percentileMillis(99), r.percentileMillis(99.9), r.maxMillis(),
                    isDirect ? "–" : signed(r.percentileMillis(50) - directOpen.percentileMillis(50)),
                    isDirect ? "–" : signed(r.percentileMillis(99) - directOpen.percentileMillis(99)), answered(r),
                    cpu(r.cpu().serverSeconds(), r.completed(), r.seconds())));
        }

        s.append("\nGateway against HAProxy (throughput: above 1 is better for the gateway; added latency and CPU: below 1 is better):\n\n");
        s.append("| workload | gateway / haproxy req/s | added p50 gateway, haproxy (ms) | gateway / haproxy added p50 | gateway / haproxy proxy CPU per req |\n");
        s.append("|---|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            if (!r.target().equals(GATEWAY)) {
                continue;
            }
            ClosedLoopResult g = r.result();
            ClosedLoopResult h = find(rows, r.workload(), r.clients(), HAPROXY);
            ClosedLoopResult d = find(rows, r.workload(), r.clients(), DIRECT);
            double ga = g.percentileMillis(50) - d.percentileMillis(50);
            double ha = h.percentileMillis(50) - d.percentileMillis(50);
            s.append(String.format(Locale.ROOT, "| %s, %s | %s | %s, %s | %s | %s |%n", r.workload(), clients(r.clients()),
                    ratio(g.opsPerSecond(), h.opsPerSecond()), signed(ga), signed(ha), addedRatio(ga, ha),
                    ratio(g.cpu().serverMillisPer(g.ops()), h.cpu().serverMillisPer(h.ops()))));
        }
        OpenLoopResult g = findOpen(open, GATEWAY);
        OpenLoopResult h = findOpen(open, HAPROXY);
        for (double p : new double[]{50, 99}) {
            double ga = g.percentileMillis(p) - directOpen.percentileMillis(p);
            double ha = h.percentileMillis(p) - directOpen.percentileMillis(p);
            s.append(String.format(Locale.ROOT, "| %s at %,d/s, added p%.0f | (fixed rate) | %s, %s | %s | %s |%n", GET, rate, p, signed(ga), signed(ha),
                    addedRatio(ga, ha), p == 50 ? ratio(g.cpu().serverMillisPer(g.completed()), h.cpu().serverMillisPer(h.completed())) : "–"));
        }

        s.append(String.format(Locale.ROOT, "%nDNS: UDP queries for `%s` type A to %s:%d (%s), one socket per client, every answer checked "
                + "for the %d zone addresses:%n%n", layout.apiName(), gw.host(), gw.dnsPort(), gw.name(), layout.zones().size()));
        s.append("| clients | queries/s | p50 (ms) | p99 (ms) | p99.9 (ms) | errors | gateway CPU per query (ms) | driver CPU per query (ms) |\n");
        s.append("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : dns) {
            ClosedLoopResult c = r.result();
            s.append(String.format(Locale.ROOT, "| %d | %s | %.3f | %.3f | %.3f | %d | %s | %.3f |%n", r.clients(), number(c.opsPerSecond(), 0),
                    c.percentileMillis(50), c.percentileMillis(99), c.percentileMillis(99.9), c.errors(),
                    cpu(c.cpu().serverSeconds(), c.ops(), c.seconds()), c.cpu().clientMillisPer(c.ops())));
        }

        s.append("\nNotes:\n\n");
        s.append("- Added latency is the target's percentile minus the direct calls' in the same phase group; a ratio is n/a when "
                + "HAProxy's added latency is not above zero (within the noise).\n");
        s.append("- Proxy CPU is the proxy process's own CPU (HAProxy pid ").append(haproxyPid == null ? "unknown" : haproxyPid)
                .append(", gateway ").append(gw.name()).append(" pid ").append(gatewayPid == null ? "unknown" : gatewayPid)
                .append(") over the measured window, with the share of a core it kept busy in brackets; the zones' CPU is the same "
                        + "work for every target and is not counted.\n");
        s.append("- Proxy CPU with no requests at all, over ").append(idle.toSeconds()).append(" s (health checks, timers, and JIT "
                + "compilation still going on): ").append(String.join("; ", idleCpu))
                .append(". At low request rates this share is part of the CPU per request above.\n");
        s.append("- Zones that answered through each target during the warm-up (`X-Petrel-Zone`): ").append(spreadText(spread)).append(".\n");
        s.append("- Order of the phases (rotated at each level): ").append(String.join("; ", order)).append(".\n");
        List<String> errors = new ArrayList<>();
        for (Row r : rows) {
            if (r.result().firstError() != null) {
                errors.add(r.workload() + ", " + clients(r.clients()) + ", " + r.target() + ": " + r.result().firstError());
            }
        }
        for (OpenRow o : open) {
            if (o.result().firstError() != null) {
                errors.add(GET + " at " + rate + "/s, " + o.target() + ": " + o.result().firstError());
            }
        }
        for (Row r : dns) {
            if (r.result().firstError() != null) {
                errors.add("DNS, " + clients(r.clients()) + ": " + r.result().firstError());
            }
        }
        if (!errors.isEmpty()) {
            s.append("\nFirst error of each phase that had one:\n\n");
            errors.forEach(e -> s.append("- ").append(e).append('\n'));
        }
        return s.toString();
    }

    private static String clients(int n) {
        return n + (n == 1 ? " client" : " clients");
    }

    /** The proxies' CPU over a window without requests, in cores. */
    private static String idleCpu(List<Endpoint> targets, Duration window) throws InterruptedException {
        List<Endpoint> measured = targets.stream().filter(t -> t.proxyCpu().measuresServers()).toList();
        List<CpuMeter.Snapshot> start = measured.stream().map(t -> t.proxyCpu().now()).toList();
        long t0 = System.nanoTime();
        Thread.sleep(window);
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < measured.size(); i++) {
            parts.add(String.format(Locale.ROOT, "%s %.3f cores", measured.get(i).name(),
                    measured.get(i).proxyCpu().since(start.get(i)).serverSeconds() / seconds));
        }
        return parts.isEmpty() ? "no proxy process known" : String.join(", ", parts);
    }

    private static ClosedLoopResult find(List<Row> rows, String workload, int clients, String target) {
        return rows.stream().filter(r -> r.workload().equals(workload) && r.clients() == clients && r.target().equals(target))
                .findFirst().orElseThrow().result();
    }

    private static OpenLoopResult findOpen(List<OpenRow> open, String target) {
        return open.stream().filter(o -> o.target().equals(target)).findFirst().orElseThrow().result();
    }

    private static String spreadText(Map<String, Map<String, LongAdder>> spread) {
        List<String> parts = new ArrayList<>();
        for (String t : List.of(DIRECT, HAPROXY, GATEWAY)) {
            Map<String, LongAdder> zones = spread.get(t);
            if (zones == null || t.equals(DIRECT)) {
                continue; // direct calls pick their zone themselves; the zones add no such header
            }
            Map<String, Long> sorted = new TreeMap<>();
            zones.forEach((z, n) -> sorted.put(z, n.sum()));
            parts.add(t + " " + sorted);
        }
        return parts.isEmpty() ? "none recorded" : String.join(", ", parts);
    }

    /** Server CPU per request and the cores it kept busy, or n/a when the process is not known. */
    private static String cpu(double serverSeconds, long ops, double seconds) {
        if (Double.isNaN(serverSeconds) || ops == 0) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.3f (%.2f cores)", serverSeconds * 1000 / ops, serverSeconds / seconds);
    }

    private static String answered(OpenLoopResult r) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%,d of %,d", r.completed(), r.scheduled()));
        if (r.errors() > 0) {
            s.append(String.format(Locale.ROOT, ", %,d errors", r.errors()));
        }
        if (r.dropped() > 0) {
            s.append(String.format(Locale.ROOT, ", %,d not sent", r.dropped()));
        }
        if (r.unfinished() > 0) {
            s.append(String.format(Locale.ROOT, ", %,d unanswered", r.unfinished()));
        }
        return s.toString();
    }

    private static String addedRatio(double gateway, double haproxy) {
        return haproxy > 0 && !Double.isNaN(gateway) ? String.format(Locale.ROOT, "%.2f", gateway / haproxy) : "n/a";
    }

    private static String ratio(double a, double b) {
        return b > 0 && !Double.isNaN(a) && !Double.isNaN(b) ? String.format(Locale.ROOT, "%.2f", a / b) : "n/a";
    }

    private static String signed(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%+.2f", v);
    }

    private static String number(double v, int decimals) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** The pid a local process's pid file names (its first token), or null when there is none. */
    private static Long pid(Path file) {
        try {
            return Long.parseLong(Files.readString(file).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            System.out.printf("no pid in %s (%s): the gateway's CPU is not measured%n", file, e.getMessage());
            return null;
        }
    }

    private static String action(long i) {
        return "/api/v1/namespaces/_/actions/gwbench-" + i;
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
}
