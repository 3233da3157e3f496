package io.petrel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.dr.DrClient;
import io.petrel.cli.local.LocalProcess;
import io.petrel.cli.local.NamedRegions;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * The two named regions of the benchmark, as a user drives them: {@code petrel} commands (run as
 * their own processes, with the benchmark's {@code petrel.home}), the zones' HTTP endpoints, and a
 * SIGKILL to every zone process of a region at once.
 */
final class DrRegions {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a {@code petrel} command printed. */
    record CliResult(int code, String out, double seconds) {
    }

    /** When a region's zones were killed: the first signal sent, every process gone. */
    record Kill(long startNanos, long endNanos, int processes) {
    }

    private final Path home;
    private final List<String> cli;
    private final HttpClient http;
    private final DrClient dr = new DrClient();

    /**
     * @param home the benchmark's own {@code petrel.home} (never the developer's {@code ~/.petrel})
     * @param cli  the command that runs {@code io.petrel.cli.PetrelMain} (java, flags, class path, main class)
     */
    DrRegions(Path home, List<String> cli, HttpClient http) {
        this.home = requireNonNull(home, "home").toAbsolutePath();
        this.cli = List.copyOf(cli);
        this.http = requireNonNull(http, "http");
        if (this.cli.isEmpty()) {
            throw new IllegalArgumentException("no command to run petrel with");
        }
    }

    Path home() {
        return home;
    }

    RegionLayout layout(String region) throws IOException {
        RegionLayout l = RegionLayout.load(new NamedRegions(home).dir(region));
        for (ZoneSpec z : l.zones()) {
            if (!Loopback.isLoopbackHost(z.host())) {
                throw new IllegalStateException("the benchmark only drives local regions; zone " + z.zone() + " of " + region + " is on " + z.host());
            }
        }
        return l;
    }

    /**
     * Runs {@code petrel ARGS} as its own process, its output echoed to stderr and returned; throws if
     * it fails or takes longer than {@code timeout} (then it is killed).
     */
    CliResult petrel(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(cli);
        command.addAll(List.of(args));
        System.err.println("$ petrel " + String.join(" ", args));
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("PETREL_HOME", home.toString());
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = p.getInputStream()) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                synchronized (out) {
                    out.append(text);
                }
            } catch (IOException e) {
                // the process went away: what it printed so far is what there is
            }
        });
        boolean exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!exited) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
        String text;
        synchronized (out) {
            text = out.toString();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        text.lines().forEach(l -> System.err.println("  " + l));
        if (!exited) {
            throw new IOException("petrel " + String.join(" ", args) + " did not finish within " + timeout.toSeconds() + " s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("petrel " + String.join(" ", args) + " failed (exit " + p.exitValue() + "): " + text.strip());
        }
        return new CliResult(p.exitValue(), text, seconds);
    }

    /** Every zone's {@code /admin/v1/dr} that answers. */
    List<JsonNode> drStatuses(RegionLayout layout) {
        return dr.statuses(layout);
    }

    /** The leading zone's {@code /admin/v1/dr}. */
    Optional<JsonNode> drLeader(RegionLayout layout) {
        return dr.leaderStatus(layout);
    }

    /**
     * The leading zone's {@code /admin/v1/backup}: the same status the {@code petrel_backup_*} gauges
     * of {@code /metrics} read ({@code rpoSeconds}, {@code archiveLagMillis}, {@code unarchivedEntries}), as JSON.
     */
    Optional<JsonNode> backupLeader(RegionLayout layout) {
        for (ZoneSpec z : layout.zones()) {
            Optional<JsonNode> s = getJson(z.httpUrl() + "/admin/v1/backup", Duration.ofSeconds(2));
            if (s.isPresent() && s.get().path("leads").asBoolean(false)) {
                return s;
            }
        }
        return Optional.empty();
    }

    /** Waits until the region's leader reports a status that {@code condition} accepts; throws naming {@code what} otherwise. */
    JsonNode awaitLeader(RegionLayout layout, Predicate<JsonNode> condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (true) {
            Optional<JsonNode> s = drLeader(layout);
            if (s.isPresent()) {
                last = s.get();
                if (condition.test(last)) {
                    return last;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not within " + timeout.toSeconds() + " s: " + what + " (last status of its leader: " + last + ")");
            }
            Thread.sleep(200);
        }
    }

    /** The pids of the region's zone processes that run now (from each zone's {@code node.pid}). */
    List<Long> zonePids(RegionLayout layout) {
        List<Long> pids = new ArrayList<>();
        for (ZoneSpec z : layout.zones()) {
            new LocalProcess(z.dataDir(), "node").running().ifPresent(h -> pids.add(h.pid()));
        }
        return pids;
    }

    /**
     * SIGKILL to every process of the region (each zone, each gateway, and what each started) at once,
     * as when the whole region is lost: found through their {@code node.pid} and {@code gateway.pid}, as
     * {@code petrel zone kill} and {@code petrel gw kill} find them, but all signals sent before any exit
     * is awaited, so that no zone outlives the others by the time it takes the first to die.
     */
    Kill killAll(RegionLayout layout) {
        List<LocalProcess> processes = new ArrayList<>();
        layout.zones().forEach(z -> processes.add(new LocalProcess(z.dataDir(), "node")));
        layout.gateways().forEach(g -> processes.add(new LocalProcess(g.dataDir(), "gateway")));
        List<ProcessHandle> all = new ArrayList<>();
        for (LocalProcess lp : processes) {
            lp.running().ifPresent(h -> {
                all.addAll(h.descendants().toList());
                all.add(h);
            });
        }
        long start = System.nanoTime();
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : all) {
            p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
        }
        if (all.stream().anyMatch(ProcessHandle::isAlive)) {
            throw new IllegalStateException("a zone process of region " + layout.region() + " survived SIGKILL for 10 s");
        }
        return new Kill(start, System.nanoTime(), all.size());
    }

    /** A zone's answer to a write: the HTTP status (-1: the zone did not answer) and the start of the body or error. */
    record Answer(int status, String detail) {
    }

    /** One write of the benchmark's action to zone {@code z}. */
    Answer put(ZoneSpec z, String name, Duration timeout) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(z.apiUrl() + "/api/v1/namespaces/guest/actions/" + name
                            + "?overwrite=true")).timeout(timeout).header("Authorization", DrWriter.AUTH).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(DrWriter.BODY)).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), abbreviate("zone " + z.zone() + ": " + r.body()));
        } catch (IOException e) {
            return new Answer(-1, abbreviate("zone " + z.zone() + ": " + e));
        }
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() <= 160 ? one : one.substring(0, 160) + "...";
    }

    /**
     * Whether the region holds action {@code name}: a 200 or a 404 from one of its zones, the zones
     * taken in turn starting at {@code first} (so parallel readers spread); throws if none gives either.
     */
    boolean present(RegionLayout layout, String name, int first) throws IOException, InterruptedException {
        String last = "no zone answered";
        List<ZoneSpec> zones = layout.zones();
        for (int attempt = 0; attempt < 2 * zones.size(); attempt++) {
            ZoneSpec z = zones.get(Math.floorMod(first + attempt, zones.size()));
            try {
                int code = http.send(HttpRequest.newBuilder(URI.create(z.apiUrl() + "/api/v1/namespaces/guest/actions/" + name))
                        .timeout(Duration.ofSeconds(10)).header("Authorization", DrWriter.AUTH).GET().build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode();
                if (code == 200 || code == 404) {
                    return code == 200;
                }
                last = "zone " + z.zone() + " answered " + code;
            } catch (IOException e) {
                last = "zone " + z.zone() + ": " + e;
            }
        }
        throw new IOException("cannot tell whether region " + layout.region() + " holds action " + name + ": " + last);
    }

    /** The current length of each zone's {@code node.log}, so that {@link #logSince} reads only what comes after. */
    Map<Path, Long> logSizes(RegionLayout layout) throws IOException {
        Map<Path, Long> sizes = new LinkedHashMap<>();
        for (ZoneSpec z : layout.zones()) {
            Path log = z.dataDir().resolve("node.log");
            sizes.put(log, Files.exists(log) ? Files.size(log) : 0L);
        }
        return sizes;
    }

    /** What each log got since {@code sizes} were taken, all zones' lines together. */
    static List<String> logSince(Map<Path, Long> sizes) throws IOException {
        List<String> lines = new ArrayList<>();
        for (var e : sizes.entrySet()) {
            if (!Files.exists(e.getKey())) {
                continue;
            }
            try (RandomAccessFile f = new RandomAccessFile(e.getKey().toFile(), "r")) {
                long from = Math.min(e.getValue(), f.length());
                // Bounded: a zone logs a few lines a second; 8 MiB is far more than a failover writes.
                byte[] b = new byte[(int) Math.min(8L << 20, f.length() - from)];
                f.seek(from);
                f.readFully(b);
                new String(b, StandardCharsets.UTF_8).lines().forEach(lines::add);
            }
        }
        return lines;
    }

    private Optional<JsonNode> getJson(String url, Duration timeout) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
