package io.petrel.cli.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** A region whose zones are processes on this machine: start, stop, kill, and ask how each zone is. */
public final class LocalRegion {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RegionLayout layout;
    private final NodeLauncher launcher;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    public LocalRegion(RegionLayout layout, NodeLauncher launcher) {
        this.layout = requireNonNull(layout, "layout");
        this.launcher = requireNonNull(launcher, "launcher");
    }

    public RegionLayout layout() {
        return layout;
    }

    public ZoneProcess process(String zone) {
        return new ZoneProcess(layout.zone(zone), launcher);
    }

    /** A gateway instance's process ({@code gateway.log}, {@code gateway.pid} in its folder). */
    public LocalProcess gateway(String name) {
        return new LocalProcess(layout.gateway(name).dataDir(), "gateway");
    }

    /** Writes the layout and each zone's and gateway's configuration, then starts every one not running. */
    public void startAll() throws IOException {
        layout.save();
        ensureAdminKey();
        for (ZoneSpec z : layout.zones()) {
            start(z.zone());
        }
        for (GatewaySpec g : layout.gateways()) {
            startGateway(g.name());
        }
    }

    public ProcessHandle startGateway(String name) throws IOException {
        GatewaySpec g = layout.gateway(name);
        Files.createDirectories(g.dataDir());
        Path config = g.dataDir().resolve("gateway.properties");
        try (Writer w = Files.newBufferedWriter(config)) {
            layout.gatewayProperties(g).store(w, "petrel gateway configuration for " + g.name() + " (written by petrel up)");
        }
        return gateway(name).start(launcher.gatewayCommand(config, g));
    }

    /**
     * The region's admin key (for {@code petrel ns} and {@code petrel key}): made once, readable by
     * this user only, and handed to the zones as a file so it never appears on a command line.
     */
    private void ensureAdminKey() throws IOException {
        Path file = layout.adminKeyFile();
        if (Files.exists(file)) {
            return;
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, HexFormat.of().formatHex(random) + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    }

    public ProcessHandle start(String zone) throws IOException {
        ZoneSpec z = layout.zone(zone);
        Files.createDirectories(z.dataDir());
        Path config = z.dataDir().resolve("node.properties");
        try (Writer w = Files.newBufferedWriter(config)) {
            layout.nodeProperties(z).store(w, "petrel node configuration for zone " + z.zone() + " (written by petrel up)");
        }
        return process(zone).start(config);
    }

    /**
     * Waits until every zone reports ready and every gateway instance routes to all of them, or throws
     * naming what is not ready (and its log).
     */
    public void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> zones = layout.zones().stream().map(ZoneSpec::zone).toList();
        awaitReady(zones, timeout);
        awaitGateways(zones, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    /** Waits until every gateway instance is up and sees each of {@code zones} as routable. */
    public void awaitGateways(List<String> zones, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (GatewaySpec g : layout.gateways()) {
            while (true) {
                LocalProcess p = gateway(g.name());
                if (p.running().isEmpty()) {
                    throw new IOException("gateway " + g.name() + " exited while starting; see " + p.logFile() + ":\n" + tail(p.logFile(), 15));
                }
                if (routableZones(g).containsAll(zones)) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("gateway " + g.name() + " does not route to zones " + zones + " after " + timeout.toSeconds()
                            + " s; see " + p.logFile());
                }
                Thread.sleep(50);
            }
        }
    }

    /** The zones a gateway instance routes new requests to now (empty if it does not answer). */
    public List<String> routableZones(GatewaySpec g) {
        List<String> out = new ArrayList<>();
        gatewayStatus(g).ifPresent(s -> s.path("zones").forEach(z -> {
            if (z.path("routable").asBoolean()) {
                out.add(z.path("zone").asText());
            }
        }));
        return out;
    }

    /** The gateway instance's own {@code /gateway/v1/status}, or empty if it does not answer. */
    public Optional<JsonNode> gatewayStatus(GatewaySpec g) {
        return getJson(g.statusUrl(), Duration.ofSeconds(2));
    }

    public void awaitReady(List<String> zones, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> notReady = new ArrayList<>();
            for (String zone : zones) {
                ZoneProcess p = process(zone);
                if (p.running().isEmpty()) {
                    throw new IOException("zone " + zone + " exited while starting; see " + p.logFile() + ":\n" + reason(p.logFile()));
                }
                if (!ready(layout.zone(zone))) {
                    notReady.add(zone);
                }
            }
            if (notReady.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("zones " + notReady + " not ready after " + timeout.toSeconds() + " s; see their node.log");
            }
            Thread.sleep(100);
        }
    }

    /** Whether the zone answers 200 on {@code /health/ready}. */
    public boolean ready(ZoneSpec z) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(z.httpUrl() + "/health/ready"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The zone's own {@code /admin/v1/status}, or empty if it does not answer. */
    public Optional<JsonNode> status(ZoneSpec z) {
        return getJson(z.statusUrl(), Duration.ofSeconds(2));
    }

    /** The zone's digest of its state ({@code /admin/v1/digest}). */
    public Optional<JsonNode> digest(ZoneSpec z) {
        return getJson(z.httpUrl() + "/admin/v1/digest", Duration.ofSeconds(10));
    }

    private Optional<JsonNode> getJson(String url, Duration timeout) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** One row per zone: what {@code petrel status --json} prints. */
    public List<Map<String, Object>> statusRows() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ZoneSpec z : layout.zones()) {
            Map<String, Object> row = new LinkedHashMap<>();
            Optional<ProcessHandle> proc = process(z.zone()).running();
            Optional<JsonNode> s = proc.isPresent() ? status(z) : Optional.empty();
            row.put("zone", z.zone());
            row.put("up", s.isPresent());
            row.put("pid", proc.map(ProcessHandle::pid).orElse(null));
            row.put("role", s.map(n -> n.path("role").asText()).orElse(proc.isPresent() ? "STARTING" : "DOWN"));
            row.put("leader", s.map(n -> n.path("leader").isNull() ? null : n.path("leader").asText()).orElse(null));
            row.put("term", s.map(n -> n.path("term").asLong()).orElse(null));
            row.put("commitIndex", s.map(n -> n.path("commitIndex").asLong()).orElse(null));
            row.put("appliedIndex", s.map(n -> n.path("appliedIndex").asLong()).orElse(null));
            row.put("revision", s.map(n -> n.path("revision").asLong()).orElse(null));
            row.put("storeAddress", z.peer().address());
            row.put("httpUrl", z.httpUrl());
            row.put("statusUrl", z.statusUrl());
            row.put("dataDir", z.dataDir().toString());
            rows.add(row);
        }
        return rows;
    }

    /** One row per gateway instance: what {@code petrel status --json} prints under {@code gateways}. */
    public List<Map<String, Object>> gatewayRows() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (GatewaySpec g : layout.gateways()) {
            Map<String, Object> row = new LinkedHashMap<>();
            Optional<ProcessHandle> proc = gateway(g.name()).running();
            Optional<JsonNode> s = proc.isPresent() ? gatewayStatus(g) : Optional.empty();
            row.put("gateway", g.name());
            row.put("up", s.isPresent());
            row.put("pid", proc.map(ProcessHandle::pid).orElse(null));
            row.put("routableZones", s.isPresent() ? routableZones(g) : List.of());
            row.put("apiUrl", g.apiUrl());
            row.put("sharedApi", "http://" + layout.sharedApi());
            row.put("dns", g.host() + ":" + g.dnsPort());
            row.put("statusUrl", g.statusUrl());
            rows.add(row);
        }
        return rows;
    }

    /** Stops every zone and gateway with SIGTERM (SIGKILL after the grace time); returns how many zones were running. */
    public int stopAll(Duration grace) {
        List<Thread> stops = new ArrayList<>();
        int[] stopped = {0};
        for (ZoneSpec z : layout.zones()) {
            stops.add(Thread.ofPlatform().start(() -> {
                if (process(z.zone()).stop(grace)) {
                    synchronized (stopped) {
                        stopped[0]++;
                    }
                }
            }));
        }
        for (GatewaySpec g : layout.gateways()) {
            stops.add(Thread.ofPlatform().start(() -> gateway(g.name()).stop(grace)));
        }
        for (Thread t : stops) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return stopped[0];
    }

    public void killAll() {
        layout.zones().forEach(z -> process(z.zone()).kill());
        layout.gateways().forEach(g -> gateway(g.name()).kill());
    }

    /** The node's own last word on why it did not start, else the end of its log. */
    static String reason(Path log) {
        String tail = tail(log, 15);
        int i = tail.lastIndexOf("refuses to start");
        if (i < 0) {
            return tail;
        }
        int start = tail.lastIndexOf('\n', i) + 1;
        int end = tail.indexOf('\n', i);
        return tail.substring(start, end < 0 ? tail.length() : end);
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
