package io.petrel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.cli.local.ZoneSpec;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Container starts, one sample at a time: a NEW action (a fresh name, so no warm container can be
 * its), invoked blocking once on a zone's own API, then once more (warm). The start's kind is read
 * back from the zone's log ("prewarmed container ... taken", "cold start ... in N ms"), so a sample
 * that did not start the way the region was set up to start it is reported, not silently averaged.
 */
final class InvokeStarts {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PREWARMED = Pattern.compile("prewarmed container \\S+ taken by .* \\(activation ([0-9a-f]{32})\\)");
    private static final Pattern COLD = Pattern.compile("cold start of container .* \\(activation ([0-9a-f]{32})\\) in (\\d+) ms");
    private static final Pattern EVICTING = Pattern.compile("evicting (\\S+) container");

    /** The three kinds the issue names, each with a trivial action. */
    static final List<String> KINDS = List.of("nodejs", "python", "java");
    static final String PYTHON_CODE = "def main(args):\n    return {'ok': True}\n";

    /** One sample: what the caller saw, what the activation record says, and what the zone's log says. */
    record Sample(String kind, String zone, String action, String activationId, double endToEndMillis, long initMillis,
                  long waitMillis, long durationMillis, double warmAfterMillis, String logged, long containerStartMillis) {
    }

    private final InvokeHttp http;
    private final List<ZoneSpec> zones;
    private final String javaJarBase64;

    InvokeStarts(InvokeHttp http, List<ZoneSpec> zones, byte[] javaJar) {
        this.http = requireNonNull(http, "http");
        this.zones = List.copyOf(zones);
        this.javaJarBase64 = Base64.getEncoder().encodeToString(javaJar);
    }

    /**
     * {@code samples} rounds; in each, one new action of every kind, on zone {@code round % zones}, with
     * {@code gapMillis} before each invoke (the prewarmed reserve refills, the new action reaches every
     * replica). {@code tag} makes the names unique in a region.
     */
    List<Sample> run(List<String> kinds, int samples, long gapMillis, String tag) throws Exception {
        List<Sample> out = new ArrayList<>();
        for (int round = 0; round < samples; round++) {
            ZoneSpec z = zones.get(round % zones.size());
            for (String kind : kinds) {
                String name = "start-" + tag + "-" + kind + "-" + round;
                String base = z.apiUrl() + "/api/v1/namespaces/" + InvokeBench.NAMESPACE + "/actions/" + name;
                http.call("PUT", base, actionBody(kind), 200);
                Thread.sleep(gapMillis);
                long t0 = System.nanoTime();
                HttpResponse<String> r = http.send("POST", base + "?blocking=true", "{}");
                double e2e = (System.nanoTime() - t0) / 1e6;
                if (r.statusCode() != 200) {
                    throw new IOException("the " + kind + " start sample " + name + " on zone " + z.zone() + " answered " + r.statusCode()
                            + ": " + InvokeHttp.cut(r.body()));
                }
                JsonNode record = JSON.readTree(r.body());
                if (!record.path("response").path("result").path("ok").asBoolean(false)) {
                    throw new IOException("the " + kind + " start sample " + name + " did not answer {ok:true}: " + InvokeHttp.cut(r.body()));
                }
                long t1 = System.nanoTime();
                http.invokeOk(base + "?blocking=true&result=true", new InvokeHttp.Failures());
                double warm = (System.nanoTime() - t1) / 1e6;
                out.add(new Sample(kind, r.headers().firstValue("X-Petrel-Zone").orElse(z.zone()), name,
                        record.path("activationId").asText(), e2e, annotation(record, "initTime"), annotation(record, "waitTime"),
                        record.path("duration").asLong(-1), warm, "?", -1));
                System.out.printf(Locale.ROOT, "  %-7s %-6s zone %s: %7.1f ms end to end, initTime %s ms, waitTime %d ms, then warm %.1f ms%n",
                        kind, tag, z.zone(), e2e, annotation(record, "initTime") < 0 ? "-" : annotation(record, "initTime"),
                        annotation(record, "waitTime"), warm);
            }
        }
        return out;
    }

    /** The samples with the start each zone's log gives for their activation ("prewarmed", "cold", or "not logged"). */
    List<Sample> withLoggedStarts(List<Sample> samples) throws IOException {
        Map<String, String> logged = new HashMap<>();
        Map<String, Long> coldMillis = new HashMap<>();
        for (ZoneSpec z : zones) {
            Path log = z.dataDir().resolve("node.log");
            if (!Files.exists(log)) {
                continue;
            }
            try (Stream<String> lines = Files.lines(log)) {
                lines.forEach(line -> {
                    Matcher p = PREWARMED.matcher(line);
                    if (p.find()) {
                        logged.put(p.group(1), "prewarmed");
                    }
                    Matcher c = COLD.matcher(line);
                    if (c.find()) {
                        logged.put(c.group(1), "cold");
                        coldMillis.put(c.group(1), Long.parseLong(c.group(2)));
                    }
                });
            }
        }
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            out.add(new Sample(s.kind(), s.zone(), s.action(), s.activationId(), s.endToEndMillis(), s.initMillis(), s.waitMillis(),
                    s.durationMillis(), s.warmAfterMillis(), logged.getOrDefault(s.activationId(), "not logged"),
                    coldMillis.getOrDefault(s.activationId(), -1L)));
        }
        return out;
    }

    private static final Pattern LOG_TIME = Pattern.compile("^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}) ");
    private static final Map<String, Pattern> EVENTS = Map.of(
            "cold starts", Pattern.compile("cold start of container"),
            "prewarm refills", Pattern.compile("prewarmed container \\S+ \\(.*\\) started in"),
            "evictions", Pattern.compile("evicting \\S+ container"),
            "closes", Pattern.compile("closing container|discarding container|container \\S+ discarded"),
            "warnings", Pattern.compile(" WARN "));

    /**
     * Container events (and WARN lines) the zones logged inside {@code window}, by kind: what else the
     * zones were doing while a phase was measured. Log times are the zones' local time.
     */
    static Map<String, Long> events(List<ZoneSpec> zones, TimeWindow window) throws IOException {
        Map<String, Long> counts = new java.util.TreeMap<>();
        java.time.ZoneId here = java.time.ZoneId.systemDefault();
        for (ZoneSpec z : zones) {
            Path log = z.dataDir().resolve("node.log");
            if (!Files.exists(log)) {
                continue;
            }
            try (Stream<String> lines = Files.lines(log)) {
                lines.forEach(line -> {
                    Matcher t = LOG_TIME.matcher(line);
                    if (!t.find()) {
                        return;
                    }
                    java.time.Instant at = java.time.LocalDateTime.parse(t.group(1)).atZone(here).toInstant();
                    if (at.isBefore(window.start()) || at.isAfter(window.end())) {
                        return;
                    }
                    EVENTS.forEach((what, p) -> {
                        if (p.matcher(line).find()) {
                            counts.merge(what, 1L, Long::sum);
                        }
                    });
                });
            }
        }
        return counts;
    }

    /** Eviction lines in the zones' logs so far, by what was evicted ("idle", "prewarmed"). */
    static Map<String, Long> evictions(List<ZoneSpec> zones) throws IOException {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (ZoneSpec z : zones) {
            Path log = z.dataDir().resolve("node.log");
            if (!Files.exists(log)) {
                continue;
            }
            try (Stream<String> lines = Files.lines(log)) {
                lines.forEach(line -> {
                    Matcher m = EVICTING.matcher(line);
                    if (m.find()) {
                        counts.merge(m.group(1), 1L, Long::sum);
                    }
                });
            }
        }
        return counts;
    }

    private String actionBody(String kind) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode exec = body.putObject("exec");
        switch (kind) {
            case "nodejs" -> exec.put("kind", "nodejs:default").put("code", InvokeBench.NOOP_CODE);
            case "python" -> exec.put("kind", "python:default").put("code", PYTHON_CODE);
            case "java" -> exec.put("kind", "java:default").put("main", "bench.Noop").put("code", javaJarBase64);
            default -> throw new IllegalArgumentException("no sample action for kind " + kind + "; kinds are " + KINDS);
        }
        return JSON.writeValueAsString(body);
    }

    private static long annotation(JsonNode record, String key) {
        for (JsonNode a : record.path("annotations")) {
            if (key.equals(a.path("key").asText())) {
                return a.path("value").asLong(-1);
            }
        }
        return -1;
    }

    /** A jar with {@code bench.Noop}, compiled here against the Gson that Java actions are written against. */
    static byte[] javaJar() throws IOException {
        Path dir = Files.createTempDirectory("petrel-invoke-bench-java");
        try {
            Path src = dir.resolve("bench").resolve("Noop.java");
            Files.createDirectories(src.getParent());
            Files.writeString(src, """
                    package bench;
                    import com.google.gson.JsonObject;
                    public class Noop {
                        public static JsonObject main(JsonObject args) {
                            JsonObject out = new JsonObject();
                            out.addProperty("ok", true);
                            return out;
                        }
                    }
                    """);
            String gson;
            try {
                gson = Path.of(Class.forName("com.google.gson.JsonObject").getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            } catch (ReflectiveOperationException | java.net.URISyntaxException e) {
                throw new IOException("Gson is not on the driver's class path", e);
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac == null) {
                throw new IOException("the driver runs on a JRE without javac: the java start samples need a JDK");
            }
            int rc = javac.run(null, null, null, "--release", "21", "-cp", gson, "-d", dir.toString(), src.toString());
            if (rc != 0) {
                throw new IOException("compiling the java sample action failed (" + rc + ")");
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (JarOutputStream jar = new JarOutputStream(bytes)) {
                jar.putNextEntry(new JarEntry("bench/Noop.class"));
                jar.write(Files.readAllBytes(dir.resolve("bench").resolve("Noop.class")));
            }
            return bytes.toByteArray();
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
