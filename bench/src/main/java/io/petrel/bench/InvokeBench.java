package io.petrel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.runtimes.RuntimeCatalog;
import io.petrel.runtimes.RuntimeKind;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Invocations on a running local region: a trivial nodejs action invoked warm (blocking, result
 * only) by closed loops of callers on the zones' own APIs and through the gateways; the same code
 * run straight through its runtime launcher, with no platform in between, in the same process as
 * the floor; and container starts per kind, prewarmed or cold, one new action per sample.
 *
 * <p>Two modes, one per region, because whether a zone prewarms is the zone's configuration:
 * {@code --mode full} (a region that prewarms every kind): prewarmed starts, the floor, the warm
 * loops; {@code --mode cold} (a region that prewarms nothing): cold starts, next to the prewarmed ones
 * of the full run ({@code --compare-with}).
 */
@Command(name = "invoke-bench", mixinStandardHelpOptions = true,
        description = "Measure warm invocations, the launcher floor and container starts on a running local region.")
public final class InvokeBench implements Callable<Integer> {
    static final String NAMESPACE = "bench";
    static final String NOOP_CODE = "function main(p){return {ok:true}}";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    enum Mode { full, cold }

    @Option(names = "--petrel-data", required = true, paramLabel = "DIR", description = "data folder of a running local region")
    Path petrelData;

    @Option(names = "--auth-file", required = true, paramLabel = "FILE", description = "a file holding the bench namespace's uuid:key")
    Path authFile;

    @Option(names = "--mode", defaultValue = "full", description = "full (prewarmed starts, floor, warm loops) or cold (cold starts); default ${DEFAULT-VALUE}")
    Mode mode;

    @Option(names = "--zone-pids", split = ",", description = "the zones' process ids (their containers are found below them)")
    List<Long> zonePids = List.of();

    @Option(names = "--gateway-pids", split = ",", description = "the gateways' process ids")
    List<Long> gatewayPids = List.of();

    @Option(names = "--clients", split = ",", defaultValue = "1,8,32", description = "concurrent callers per warm phase (default ${DEFAULT-VALUE})")
    List<Integer> clientLevels;

    @Option(names = "--seconds", defaultValue = "15", description = "measured seconds per warm phase and of the floor (default ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "2", description = "unmeasured seconds before each phase (default ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--initial-warmup-seconds", defaultValue = "20",
            description = "warm invocations (4 callers, zones and gateways) before anything is measured; a fresh region's JIT needs minutes to settle "
                    + "on two cores, so this is a compromise with the run time (default ${DEFAULT-VALUE})")
    int initialWarmupSeconds;

    @Option(names = "--cold-warmup-seconds", defaultValue = "5", description = "with --mode cold: warm invocations before the samples (default ${DEFAULT-VALUE})")
    int coldWarmupSeconds;

    @Option(names = "--samples", defaultValue = "10", description = "start samples per kind (default ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--warmup-start-rounds", defaultValue = "3",
            description = "unrecorded rounds of start samples first (one per zone), so each zone has compiled the path of a new action (default ${DEFAULT-VALUE})")
    int warmupStartRounds;

    @Option(names = "--floor-samples", defaultValue = "5", description = "with --mode cold: start floor samples per kind and way (default ${DEFAULT-VALUE})")
    int floorSamples;

    @Option(names = "--sample-gap-ms", defaultValue = "1000", description = "pause before each start sample, so the prewarmed reserve refills (default ${DEFAULT-VALUE})")
    long sampleGapMillis;

    @Option(names = "--kinds", split = ",", defaultValue = "nodejs,python,java", description = "kinds of the start samples (default ${DEFAULT-VALUE})")
    List<String> kinds;

    @Option(names = "--targets", split = ",", defaultValue = "zones,gateway", description = "warm targets: zones, gateway (default ${DEFAULT-VALUE})")
    List<String> targets;

    @Option(names = "--diagnose-seconds", defaultValue = "8", description = "measured seconds of each --diagnose phase (default ${DEFAULT-VALUE})")
    int diagnoseSeconds;

    @Option(names = "--diagnose", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "also run the zones' loops with the namespace's activation records off, to show what the record costs (default ${DEFAULT-VALUE})")
    boolean diagnose;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "scratch folder for the floor's launcher (default: a new temporary folder)")
    Path workDir;

    @Option(names = "--results", paramLabel = "FILE", description = "write the start samples here as JSON")
    Path results;

    @Option(names = "--compare-with", paramLabel = "FILE", description = "with --mode cold: the --results of the full run, for cold/prewarmed ratios")
    Path compareWith;

    @Option(names = "--report", paramLabel = "FILE", description = "also write the Markdown report here")
    Path report;

    public static void main(String[] args) {
        System.exit(new CommandLine(new InvokeBench()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    /** One measured phase: what the callers saw, failures by kind, CPU, and store log entries committed meanwhile. */
    record Phase(String target, ClosedLoopResult result, Map<String, Long> failures, InvokeCpu.Use cpu, Store store, Map<String, Long> events) {
    }

    /**
     * What the store did in a window: log entries committed (one log for the region) and reads (gets and
     * scans, all zones together; linearizable unless a caller asked for local data), from the zones' own
     * metrics; -1 where unknown.
     */
    record Store(long entries, long reads) {
        static final Store UNKNOWN = new Store(-1, -1);

        Store minus(Store before) {
            return new Store(entries < 0 || before.entries < 0 ? -1 : entries - before.entries,
                    reads < 0 || before.reads < 0 ? -1 : reads - before.reads);
        }

        String per(long ops, boolean ofReads) {
            long n = ofReads ? reads : entries;
            return n < 0 || ops == 0 ? "-" : String.format(Locale.ROOT, "%.2f", n / (double) ops);
        }
    }

    /** What a run hands to the next: its start samples. */
    record Results(String mode, List<InvokeStarts.Sample> samples) {
    }

    /** The region at rest: CPU and store entries over a window with no load. */
    record Idle(double seconds, InvokeCpu.Use cpu, Store store) {
    }

    private InvokeHttp http;
    private InvokeCpu cpu;
    private List<ZoneSpec> zones;
    private Duration zonesAgeAtWarmPhases = Duration.ZERO;
    private List<String> zoneApis;
    private String gatewayApi;
    private List<String> metricsUrls;

    @Override
    public Integer call() throws Exception {
        RegionLayout layout = RegionLayout.load(petrelData);
        gatewayApi = "http://" + layout.sharedApi();
        zones = layout.zones();
        zoneApis = zones.stream().map(ZoneSpec::apiUrl).toList();
        metricsUrls = layout.zones().stream().map(z -> z.httpUrl() + "/metrics").toList();
        for (String url : Stream.of(List.of(gatewayApi), metricsUrls, zoneApis).flatMap(List::stream).toList()) {
            if (!Loopback.isLoopbackUrl(url)) {
                throw new IllegalArgumentException("the benchmark only drives local regions, not " + url);
            }
        }
        http = new InvokeHttp(Files.readString(authFile).trim());
        cpu = new InvokeCpu(zonePids, gatewayPids);
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        Path scratch = workDir != null ? workDir : Files.createTempDirectory("petrel-invoke-bench");
        Files.createDirectories(scratch);

        http.call("PUT", gatewayApi + actionPath("noop") + "?overwrite=true",
                "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"" + NOOP_CODE + "\"}}", 200);
        awaitInvocable();
        byte[] jar = InvokeStarts.javaJar();
        InvokeStarts starts = new InvokeStarts(http, layout.zones(), jar);
        StringBuilder md = new StringBuilder();

        if (mode == Mode.cold) {
            warmUp(coldWarmupSeconds);
            startWarmUp(starts, "cold");
            System.out.printf("cold starts: %d per kind (%s), %d ms apart ...%n", samples, kinds, sampleGapMillis);
            InvokeCpu.Snapshot before = cpu.now();
            long t0 = System.nanoTime();
            List<InvokeStarts.Sample> cold = starts.withLoggedStarts(starts.run(kinds, samples, sampleGapMillis, "cold"));
            String coldOthers = others(cpu.since(before), t0);
            writeResults(new Results("cold", cold));
            System.out.println("start floors: the same launchers and actions started from this process ...");
            RuntimeCatalog catalog = RuntimeCatalog.detect(scratch.resolve("runtimes"));
            List<RuntimeStarts.Sample> floors = new RuntimeStarts(catalog, scratch.resolve("starts"), jar).run(kinds, floorSamples, IDLE_LAUNCHER_MILLIS);
            Results prewarmed = compareWith == null ? null : JSON.readValue(compareWith.toFile(), Results.class);
            md.append("Cold starts (a region that prewarms nothing), ").append(started).append(":\n\n");
            md.append(startsTable("cold", cold));
            md.append(String.format(Locale.ROOT, "%nEvictions in the zones' logs: %s. %s%n", InvokeStarts.evictions(layout.zones()), coldOthers));
            md.append('\n').append(floorTable(floors));
            md.append('\n').append(comparison(cold, prewarmed == null ? List.of() : prewarmed.samples(), floors));
        } else {
            Idle idle = idle(Duration.ofSeconds(3));
            warmUp(initialWarmupSeconds);
            startWarmUp(starts, "prewarm");
            System.out.printf("prewarmed starts: %d per kind (%s), %d ms apart ...%n", samples, kinds, sampleGapMillis);
            InvokeCpu.Snapshot before = cpu.now();
            long t0 = System.nanoTime();
            List<InvokeStarts.Sample> prewarmed = starts.withLoggedStarts(starts.run(kinds, samples, sampleGapMillis, "prewarm"));
            String prewarmedOthers = others(cpu.since(before), t0);
            writeResults(new Results("prewarmed", prewarmed));
            Map<String, Long> evictionsBefore = InvokeStarts.evictions(layout.zones());

            RuntimeCatalog catalog = RuntimeCatalog.detect(scratch.resolve("runtimes"));
            RuntimeKind node = catalog.resolve("nodejs:default")
                    .orElseThrow(() -> new IllegalStateException("this machine has no nodejs kind: " + catalog.kinds()));
            List<String> command = catalog.command(node, 256);
            Phase floor = floor(command, scratch.resolve("floor"));

            zonesAgeAtWarmPhases = zonesAge();
            // The highest level last: on this machine it can leave a zone behind the store's leader (see the
            // report's zone status), and nothing measured after it would be about invocations any more.
            int top = clientLevels.stream().max(Integer::compare).orElseThrow();
            List<Integer> lower = clientLevels.stream().filter(c -> c != top).toList();
            List<Phase> phases = new ArrayList<>();
            for (int clients : lower) {
                for (String target : targets) {
                    phases.add(warmPhase(target, clients, "", seconds));
                }
            }
            List<Phase> unrecorded = new ArrayList<>();
            if (diagnose) {
                // The same loops with the namespace's activation records switched off (OpenWhisk's storeActivations):
                // what is left is the invoke path without its store write.
                policy(false);
                try {
                    for (int clients : lower.isEmpty() ? List.of(top) : lower) {
                        unrecorded.add(warmPhase("zones", clients, ", records not stored", diagnoseSeconds));
                    }
                } finally {
                    policy(true);
                }
            }
            for (String target : targets) {
                phases.add(warmPhase(target, top, "", seconds));
            }
            String zonesAfter = zoneStatus();
            Map<String, Long> evictionsAfter = InvokeStarts.evictions(layout.zones());

            md.append("Warm invocations, ").append(started).append(":\n\n");
            md.append(warmTables(phases, unrecorded, floor, idle, node, command));
            md.append("\nPrewarmed starts (a region that prewarms one container of each kind per zone):\n\n");
            md.append(startsTable("prewarmed", prewarmed));
            md.append(String.format(Locale.ROOT, "%nEvictions in the zones' logs: %s after the start samples, %s at the end. %s%n",
                    evictionsBefore, evictionsAfter, prewarmedOthers));
            md.append("\nThe zones' store replicas after the warm phases (`/admin/v1/status`): ").append(zonesAfter).append(".\n");
            md.append('\n');
            for (String line : goals(phases, floor, prewarmed)) {
                md.append("- ").append(line).append('\n');
            }
        }
        System.out.println();
        System.out.println(md);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.writeString(report, md.toString());
        }
        return 0;
    }

    /** How long the youngest zone process has been running. */
    private Duration zonesAge() {
        Instant now = Instant.now();
        Duration youngest = null;
        for (long pid : zonePids) {
            Optional<Instant> started = ProcessHandle.of(pid).flatMap(p -> p.info().startInstant());
            if (started.isPresent()) {
                Duration age = Duration.between(started.get(), now);
                youngest = youngest == null || age.compareTo(youngest) < 0 ? age : youngest;
            }
        }
        return youngest == null ? Duration.ZERO : youngest;
    }

    private void startWarmUp(InvokeStarts starts, String tag) throws Exception {
        if (warmupStartRounds > 0) {
            System.out.printf("unrecorded start samples first: %d round(s) ...%n", warmupStartRounds);
            starts.run(kinds, warmupStartRounds, sampleGapMillis, tag + "-warmup");
        }
    }

    /** How long a floor launcher sits started before its init, as a prewarmed container does. */
    private static final long IDLE_LAUNCHER_MILLIS = 300;

    /** Sets the namespace's {@code storeActivations} with its own (admin) key, and waits until the zones have seen it. */
    private void policy(boolean storeActivations) throws Exception {
        http.call("PUT", gatewayApi + "/api/v1/namespaces/" + NAMESPACE + "/policy", "{\"storeActivations\":" + storeActivations + "}", 200);
        // The invoke path reads the policy from each zone's watched cache: applied within milliseconds.
        Thread.sleep(1_000);
    }

    /** The store's commit index (the highest any zone reports) and the store reads every zone made so far, from their metrics. */
    private Store storeCounters() {
        long entries = -1;
        long reads = 0;
        for (String url : metricsUrls) {
            long zoneReads = -1;
            try {
                for (String line : http.call("GET", url, null, 200).split("\n")) {
                    if (line.startsWith("petrel_store_commit_index")) {
                        entries = Math.max(entries, (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
                    } else if (line.startsWith("petrel_store_read_latency_seconds_count")) {
                        zoneReads = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    }
                }
            } catch (Exception e) {
                // reported as unknown
            }
            reads = zoneReads < 0 || reads < 0 ? -1 : reads + zoneReads;
        }
        return new Store(entries, reads);
    }

    /** What the servers and the rest of the machine used while the start samples ran. */
    private static String others(InvokeCpu.Use u, long startedNanos) {
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        return String.format(Locale.ROOT, "While the samples ran (%.0f s) the servers kept %.2f cores busy and other processes %.2f.", seconds,
                u.servers() / seconds, u.others() / seconds);
    }

    /** Each zone's store role and log position, as its {@code /admin/v1/status} says (a replica left behind shows here). */
    private String zoneStatus() {
        List<String> out = new ArrayList<>();
        for (ZoneSpec z : zones) {
            try {
                com.fasterxml.jackson.databind.JsonNode st = JSON.readTree(http.call("GET", z.statusUrl(), null, 200));
                out.add(String.format(Locale.ROOT, "%s %s, commit %d, applied %d", z.zone(), st.path("role").asText("?"),
                        st.path("commitIndex").asLong(-1), st.path("appliedIndex").asLong(-1)));
            } catch (Exception e) {
                out.add(z.zone() + " did not answer (" + e.getClass().getSimpleName() + ")");
            }
        }
        return String.join("; ", out);
    }

    private Idle idle(Duration d) throws InterruptedException {
        System.out.printf("the region at rest for %d s ...%n", d.toSeconds());
        CpuWindow w = CpuWindow.start(cpu, this::storeCounters, Duration.ZERO, d);
        InvokeCpu.Use u = w.await();
        return new Idle(d.toNanos() / 1e9, u, w.store());
    }

    private void writeResults(Results r) throws IOException {
        if (results != null) {
            Files.createDirectories(results.toAbsolutePath().getParent());
            JSON.writeValue(results.toFile(), r);
        }
    }

    static String actionPath(String name) {
        return "/api/v1/namespaces/" + NAMESPACE + "/actions/" + name;
    }

    private String invokeUrl(String base) {
        return base + actionPath("noop") + "?blocking=true&result=true";
    }

    /** Every zone must have the new action (its entity cache follows the store) before anything is measured. */
    private void awaitInvocable() throws Exception {
        for (String base : zoneApis) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    http.invokeOk(invokeUrl(base), new InvokeHttp.Failures());
                    break;
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("zone " + base + " cannot invoke the benchmark's action: " + e.getMessage(), e);
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    /** Warm invocations through the zones and the gateways, unmeasured: the zones' JIT compiles the invoke path. */
    private void warmUp(int warmSeconds) throws InterruptedException {
        System.out.printf("warming up for %d s ...%n", warmSeconds);
        List<String> zoneUrls = zoneApis.stream().map(this::invokeUrl).toList();
        String gw = invokeUrl(gatewayApi);
        InvokeHttp.Failures ignored = new InvokeHttp.Failures();
        ClosedLoopResult r = new ClosedLoop(4, Duration.ofSeconds(warmSeconds), Duration.ofMillis(1), InvokeHttp.TIMEOUT, CpuMeter.NONE)
                .run("warm", (c, seq) -> http.invokeOk(seq % 4 == 3 ? gw : zoneUrls.get((int) ((c + seq) % zoneUrls.size())), ignored));
        if (r.firstError() != null) {
            System.out.println("  (warm-up errors: " + r.firstError() + ")");
        }
    }

    /** One closed loop of warm invocations of {@code noop}: on the zones' own ports (each caller in turn over the three) or the gateways' shared one. */
    private Phase warmPhase(String target, int clients, String suffix, int measuredSeconds) throws InterruptedException {
        List<String> urls = switch (target) {
            case "zones" -> zoneApis.stream().map(this::invokeUrl).toList();
            case "gateway" -> List.of(invokeUrl(gatewayApi));
            default -> throw new IllegalArgumentException("targets are zones and gateway, not " + target);
        };
        InvokeHttp.Failures failures = new InvokeHttp.Failures();
        // More callers need more containers (one activation each): a longer warm-up lets the pool start them before the window.
        Duration warm = Duration.ofSeconds(Math.max(warmupSeconds, clients / 8));
        CpuWindow window = CpuWindow.start(cpu, this::storeCounters, warm, Duration.ofSeconds(measuredSeconds));
        ClosedLoopResult r = new ClosedLoop(clients, warm, Duration.ofSeconds(measuredSeconds), InvokeHttp.TIMEOUT, CpuMeter.NONE)
                .run(target + "-" + clients, (c, seq) -> http.invokeOk(urls.get((int) ((c + seq) % urls.size())), failures));
        InvokeCpu.Use u = window.await();
        Phase p = new Phase(label(target) + suffix, r, failures.within(r.window()), u, window.store(), zoneEvents(r.window()));
        print(p);
        return p;
    }

    private Map<String, Long> zoneEvents(TimeWindow window) {
        try {
            return InvokeStarts.events(zones, window);
        } catch (IOException e) {
            return Map.of("(zone logs unreadable: " + e.getMessage() + ")", 0L);
        }
    }

    private static String label(String target) {
        return target.equals("zones") ? "API, zones' own ports" : "API, through the gateways";
    }

    /** The floor: the same code, one caller, straight through a launcher on fd 3 / stdin, as a container speaks to it. */
    private Phase floor(List<String> command, Path dir) throws Exception {
        System.out.printf("floor: %s ...%n", String.join(" ", command));
        try (RuntimeProcess launcher = RuntimeProcess.start(command, dir)) {
            launcher.init("/" + NAMESPACE + "/noop", NOOP_CODE);
            InvokeHttp.Failures failures = new InvokeHttp.Failures();
            HexFormat hex = HexFormat.of();
            InvokeCpu floorCpu = new InvokeCpu(List.of(launcher.pid()), List.of());
            CpuWindow window = CpuWindow.start(floorCpu, () -> Store.UNKNOWN, Duration.ofSeconds(warmupSeconds + 1), Duration.ofSeconds(seconds));
            ClosedLoopResult r = new ClosedLoop(1, Duration.ofSeconds(warmupSeconds + 1), Duration.ofSeconds(seconds), InvokeHttp.TIMEOUT, CpuMeter.NONE)
                    .run("floor", (c, seq) -> {
                        byte[] id = new byte[16];
                        ThreadLocalRandom.current().nextBytes(id);
                        String activation = hex.formatHex(id);
                        // The fields a container sends (runtimes/README.md), with the same kind of values.
                        String line = RuntimeProcess.runLine(NAMESPACE, "/" + NAMESPACE + "/noop", activation, seq);
                        try {
                            if (!launcher.run(line, activation).path("ok").asBoolean(false)) {
                                failures.add("another result");
                                throw new IOException("the floor's action did not answer {ok:true}");
                            }
                        } catch (IOException e) {
                            failures.add(e.getClass().getSimpleName());
                            throw e;
                        }
                    });
            // The launcher's own CPU is the "containers" column here (it is the one process measured, as a zone).
            InvokeCpu.Use u = window.await();
            Phase p = new Phase("launcher directly (floor)", r, failures.within(r.window()),
                    new InvokeCpu.Use(0, u.zones(), 0, u.driver(), u.others()), Store.UNKNOWN, zoneEvents(r.window()));
            print(p);
            return p;
        }
    }

    private static void print(Phase p) {
        ClosedLoopResult r = p.result();
        System.out.printf(Locale.ROOT, "%-28s %2d callers: %7.0f inv/s  p50 %6.2f ms  p99 %7.2f ms  max %7.2f ms  ok %d  failures %s  zone logs %s"
                        + "  other processes %.2f cores%s%n",
                p.target(), r.clients(), r.opsPerSecond(), r.percentileMillis(50), r.percentileMillis(99), r.latencyMicros().getMaxValue() / 1000.0,
                r.ops(), p.failures(), p.events(), p.cpu().others() / r.seconds(), r.firstError() == null ? "" : " (first: " + r.firstError() + ")");
    }

    /**
     * CPU snapshots at the edges of a closed loop's measured window: the loop fixes its window right
     * after starting its threads, so these edges are late by that start (milliseconds).
     */
    private static final class CpuWindow {
        private final Thread thread;
        private final AtomicReference<InvokeCpu.Use> use = new AtomicReference<>(InvokeCpu.Use.NONE);
        private final AtomicReference<Store> store = new AtomicReference<>(Store.UNKNOWN);

        private CpuWindow(InvokeCpu cpu, Supplier<Store> counters, Duration warmup, Duration measure) {
            long from = System.nanoTime() + warmup.toNanos();
            long to = from + measure.toNanos();
            thread = Thread.ofPlatform().daemon().name("cpu-window").start(() -> {
                try {
                    sleepUntil(from);
                    InvokeCpu.Snapshot s = cpu.now();
                    Store before = counters.get();
                    sleepUntil(to);
                    use.set(cpu.since(s));
                    store.set(counters.get().minus(before));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        static CpuWindow start(InvokeCpu cpu, Supplier<Store> counters, Duration warmup, Duration measure) {
            return new CpuWindow(cpu, counters, warmup, measure);
        }

        InvokeCpu.Use await() throws InterruptedException {
            thread.join();
            return use.get();
        }

        /** What the store did in the window. */
        Store store() {
            return store.get();
        }

        private static void sleepUntil(long nanoTime) throws InterruptedException {
            long left;
            while ((left = nanoTime - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.sleep(left);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The report

    private String warmTables(List<Phase> phases, List<Phase> unrecorded, Phase floor, Idle idle, RuntimeKind node, List<String> command) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "`noop` (%s, `%s`) invoked with `POST ...?blocking=true&result=true` and `{}`, %d s measured per phase "
                        + "after %d s unmeasured%s; callers on the zones' own ports take the three zones in turn. Before: %d s of "
                        + "warm invocations by 4 callers, then the start samples; the first warm phase began %d s after the zones started. The floor "
                        + "is the same code through `%s` started by this process (fd 3 a FIFO, one caller, no platform; on its row, \"other processes\" "
                        + "are mostly the region at rest).%n%n",
                node.kind(), NOOP_CODE, seconds, warmupSeconds, topWarmup(), initialWarmupSeconds,
                zonesAgeAtWarmPhases.toSeconds(), String.join(" ", shortCommand(command))));
        s.append("| target | callers | invocations/s | p50 (ms) | p99 (ms) | max (ms) | 200 `{\"ok\":true}` | other answers |"
                + " CPU ms per invocation: zones / containers / gateways / driver | server cores busy | other processes' cores |"
                + " store log entries / store reads per invocation |\n");
        s.append("|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|\n");
        for (Phase p : Stream.of(List.of(floor), phases, unrecorded).flatMap(List::stream).toList()) {
            ClosedLoopResult r = p.result();
            InvokeCpu.Use u = p.cpu();
            s.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %.2f | %.2f | %.2f | %,d | %s | %s / %s / %s / %s | %.2f | %.2f | %s / %s |%n",
                    p.target(), r.clients(), r.opsPerSecond(), r.percentileMillis(50), r.percentileMillis(99),
                    r.latencyMicros().getMaxValue() / 1000.0, r.ops(), failures(p.failures()),
                    ms(u.zones(), r.ops()), ms(u.containers(), r.ops()), ms(u.gateways(), r.ops()), ms(u.driver(), r.ops()),
                    u.servers() / r.seconds(), u.others() / r.seconds(), p.store().per(r.ops(), false), p.store().per(r.ops(), true)));
        }
        s.append(String.format(Locale.ROOT, "%nAt rest (%.0f s before the load, nothing invoked): the servers kept %.2f cores busy (zones %.2f, containers %.2f, "
                        + "gateways %.2f; other processes %.2f); the store committed %s log entries/s and the zones made %s store reads/s.%n",
                idle.seconds(), idle.cpu().servers() / idle.seconds(), idle.cpu().zones() / idle.seconds(), idle.cpu().containers() / idle.seconds(),
                idle.cpu().gateways() / idle.seconds(), idle.cpu().others() / idle.seconds(),
                idle.store().entries() < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", idle.store().entries() / idle.seconds()),
                idle.store().reads() < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", idle.store().reads() / idle.seconds())));
        s.append('\n');
        s.append("Added over the floor (`added p50 = platform p50 - floor p50`; ratio = platform / floor; the floor has one caller):\n\n");
        s.append("| target | callers | p50 (ms) | floor p50 (ms) | **added p50 (ms)** | p50 ratio | p99 (ms) | floor p99 (ms) | p99 ratio |\n");
        s.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        double f50 = floor.result().percentileMillis(50);
        double f99 = floor.result().percentileMillis(99);
        for (Phase p : Stream.concat(phases.stream(), unrecorded.stream()).toList()) {
            ClosedLoopResult r = p.result();
            s.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | **%.2f** | %.0fx | %.2f | %.2f | %.0fx |%n", p.target(), r.clients(),
                    r.percentileMillis(50), f50, r.percentileMillis(50) - f50, r.percentileMillis(50) / f50,
                    r.percentileMillis(99), f99, r.percentileMillis(99) / f99));
        }
        s.append("\nWhen each phase was measured, and what the zones logged meanwhile (container events, WARN lines), and each phase's first error:\n\n"
                + "| phase | callers | window | zone log | first error |\n|---|---:|---|---|---|\n");
        for (Phase p : Stream.of(List.of(floor), phases, unrecorded).flatMap(List::stream).toList()) {
            s.append("| ").append(p.target()).append(" | ").append(p.result().clients()).append(" | ").append(p.result().window()).append(" | ")
                    .append(p.events().isEmpty() ? "nothing" : p.events().toString().replaceAll("[{}]", "").replace("=", ": ")).append(" | ")
                    .append(p.result().firstError() == null ? "" : InvokeHttp.cut(p.result().firstError()).replace("|", "/")).append(" |\n");
        }
        return s.toString();
    }

    /** The longer warm-up of the highest levels, as the text says it. */
    private String topWarmup() {
        int top = clientLevels.stream().max(Integer::compare).orElse(1);
        return top / 8 > warmupSeconds ? String.format(Locale.ROOT, " (%d s at %d callers)", top / 8, top) : "";
    }

    private static List<String> shortCommand(List<String> command) {
        List<String> out = new ArrayList<>();
        for (String c : command) {
            out.add(c.contains("/") ? Path.of(c).getFileName().toString() : c);
        }
        return out;
    }

    private static String failures(Map<String, Long> f) {
        if (f.isEmpty()) {
            return "none";
        }
        StringBuilder s = new StringBuilder();
        f.forEach((k, v) -> s.append(s.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%,d × %s", v, k)));
        return s.toString();
    }

    private static String ms(double seconds, long ops) {
        return Double.isNaN(seconds) || ops == 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", seconds * 1000 / ops);
    }

    static String startsTable(String how, List<InvokeStarts.Sample> samples) {
        StringBuilder s = new StringBuilder();
        s.append("| kind | start | samples | as the zone logged it | end to end p50 / max (ms) | `initTime` p50 / max (ms) | `waitTime` p50 / max (ms) |"
                + " `duration` (init + run) p50 (ms) | outside the activation p50 (ms) | container process start p50 / max (ms, zone log) | next call, warm, p50 (ms) |\n");
        s.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String kind : kinds(samples)) {
            List<InvokeStarts.Sample> k = samples.stream().filter(x -> x.kind().equals(kind)).toList();
            Map<String, Long> logged = new java.util.TreeMap<>();
            k.forEach(x -> logged.merge(x.logged(), 1L, Long::sum));
            StringBuilder l = new StringBuilder();
            logged.forEach((what, n) -> l.append(l.isEmpty() ? "" : ", ").append(n).append(' ').append(what));
            double[] processStart = k.stream().filter(x -> x.containerStartMillis() >= 0).mapToDouble(InvokeStarts.Sample::containerStartMillis).toArray();
            s.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | **%s** | %s | %s | %.0f | %.1f | %s | %s |%n", kind, how, k.size(), l,
                    p50max(k.stream().mapToDouble(InvokeStarts.Sample::endToEndMillis).toArray(), 1),
                    p50max(k.stream().filter(x -> x.initMillis() >= 0).mapToDouble(InvokeStarts.Sample::initMillis).toArray(), 0),
                    p50max(k.stream().mapToDouble(InvokeStarts.Sample::waitMillis).toArray(), 0),
                    percentile(k.stream().mapToDouble(InvokeStarts.Sample::durationMillis).toArray(), 50),
                    // What the caller waited for that was neither the container's start (waitTime) nor the activation itself.
                    percentile(k.stream().mapToDouble(x -> x.endToEndMillis() - x.waitMillis() - x.durationMillis()).toArray(), 50),
                    processStart.length == 0 ? "-" : p50max(processStart, 0),
                    String.format(Locale.ROOT, "%.1f", percentile(k.stream().mapToDouble(InvokeStarts.Sample::warmAfterMillis).toArray(), 50))));
        }
        return s.toString();
    }

    private static List<String> kinds(List<InvokeStarts.Sample> samples) {
        return samples.stream().map(InvokeStarts.Sample::kind).distinct().toList();
    }

    private static String floorTable(List<RuntimeStarts.Sample> floors) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "Start floors, in this process: each kind's launcher started straight from the driver (fd 3 a FIFO, "
                + "no sandbox, cgroup, pool, API or store), then init and one run. **cold**: timed from the process start; **idle launcher**: "
                + "the launcher sat %d ms first, as a prewarmed container does, timed from the init:%n%n", IDLE_LAUNCHER_MILLIS));
        s.append("| kind | floor | samples | start + init + run, or init + run, p50 / max (ms) | init alone p50 / max (ms) |\n|---|---|---:|---:|---:|\n");
        for (String kind : floors.stream().map(RuntimeStarts.Sample::kind).distinct().toList()) {
            for (String how : List.of("cold", "idle launcher")) {
                List<RuntimeStarts.Sample> k = floors.stream().filter(x -> x.kind().equals(kind) && x.how().equals(how)).toList();
                s.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s |%n", kind, how, k.size(),
                        p50max(k.stream().mapToDouble(RuntimeStarts.Sample::millis).toArray(), 1),
                        p50max(k.stream().mapToDouble(RuntimeStarts.Sample::initMillis).toArray(), 1)));
            }
        }
        return s.toString();
    }

    private static double[] endToEnd(List<InvokeStarts.Sample> samples, String kind) {
        return samples.stream().filter(x -> x.kind().equals(kind)).mapToDouble(InvokeStarts.Sample::endToEndMillis).toArray();
    }

    private static double[] floor(List<RuntimeStarts.Sample> floors, String kind, String how) {
        return floors.stream().filter(x -> x.kind().equals(kind) && x.how().equals(how)).mapToDouble(RuntimeStarts.Sample::millis).toArray();
    }

    private static String comparison(List<InvokeStarts.Sample> cold, List<InvokeStarts.Sample> prewarmed, List<RuntimeStarts.Sample> floors) {
        StringBuilder s = new StringBuilder();
        s.append("Starts against each other and against their floors (end to end p50, ms; prewarmed: the full run's samples, on the region that "
                + "prewarms; the floors and the cold samples: this process):\n\n");
        s.append("| kind | cold | cold floor | cold added | prewarmed | idle-launcher floor | prewarmed added | cold / prewarmed | prewarmed max | prewarmed under 20 ms |\n");
        s.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (String kind : kinds(cold)) {
            double c50 = percentile(endToEnd(cold, kind), 50);
            double[] p = endToEnd(prewarmed, kind);
            double p50 = percentile(p, 50);
            double pmax = Arrays.stream(p).max().orElse(Double.NaN);
            double cf = percentile(floor(floors, kind, "cold"), 50);
            double pf = percentile(floor(floors, kind, "idle launcher"), 50);
            s.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %s | %.1f | %s | %s | %s | %s |%n", kind, c50, cf, c50 - cf,
                    p.length == 0 ? "-" : String.format(Locale.ROOT, "%.1f", p50), pf,
                    p.length == 0 ? "-" : String.format(Locale.ROOT, "%.1f", p50 - pf),
                    p.length == 0 ? "-" : String.format(Locale.ROOT, "%.1fx", c50 / p50),
                    p.length == 0 ? "-" : String.format(Locale.ROOT, "%.1f", pmax),
                    p.length == 0 ? "-" : p50 < 20 ? (pmax < 20 ? "yes (every sample)" : "p50 yes, max no") : "no"));
        }
        return s.toString();
    }

    private List<String> goals(List<Phase> phases, Phase floor, List<InvokeStarts.Sample> prewarmed) {
        List<String> lines = new ArrayList<>();
        double f50 = floor.result().percentileMillis(50);
        for (Phase p : phases) {
            if (p.result().clients() == clientLevels.get(0)) {
                double added = p.result().percentileMillis(50) - f50;
                lines.add(String.format(Locale.ROOT, "goal: under 2 ms p50 added over the floor when warm: %s, %d caller(s): %.2f ms added (%.2f − %.2f) — %s",
                        p.target(), p.result().clients(), added, p.result().percentileMillis(50), f50, added < 2 ? "met" : "missed"));
            }
        }
        Phase best = phases.stream().max(java.util.Comparator.comparingDouble(p -> p.result().opsPerSecond())).orElseThrow();
        lines.add(String.format(Locale.ROOT, "goal: over 1,500 warm invocations/s: best %,.0f/s (%s, %d callers) — %s", best.result().opsPerSecond(),
                best.target(), best.result().clients(), best.result().opsPerSecond() > 1500 ? "met" : "missed"));
        for (String kind : kinds(prewarmed)) {
            double[] e2e = prewarmed.stream().filter(x -> x.kind().equals(kind)).mapToDouble(InvokeStarts.Sample::endToEndMillis).toArray();
            double p50 = percentile(e2e, 50);
            double max = Arrays.stream(e2e).max().orElse(Double.NaN);
            long notPrewarmed = prewarmed.stream().filter(x -> x.kind().equals(kind) && !x.logged().equals("prewarmed")).count();
            lines.add(String.format(Locale.ROOT, "goal: prewarmed starts under 20 ms: %s p50 %.1f ms, max %.1f ms end to end — %s%s", kind, p50, max,
                    p50 < 20 ? (max < 20 ? "met" : "met at p50, not at max") : "missed",
                    notPrewarmed == 0 ? "" : " (" + notPrewarmed + " sample(s) were not logged as prewarmed)"));
        }
        return lines;
    }

    private static String p50max(double[] values, int decimals) {
        if (values.length == 0) {
            return "-";
        }
        String f = "%." + decimals + "f";
        return String.format(Locale.ROOT, f + " / " + f, percentile(values, 50), Arrays.stream(values).max().orElse(Double.NaN));
    }

    /** Nearest-rank percentile of a small sample. */
    static double percentile(double[] values, double p) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
