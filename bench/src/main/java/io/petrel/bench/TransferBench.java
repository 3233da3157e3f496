package io.petrel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.transfer.ArchiveEntry;
import io.petrel.api.transfer.ArchiveManifest;
import io.petrel.api.transfer.NamespaceArchive;
import io.petrel.cli.admin.RegionEndpoints;
import io.petrel.cli.local.GatewaySpec;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.cli.transfer.TenantClient;
import io.petrel.cli.transfer.TransferProgress;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A tenant's export and import of a whole namespace (1,000 actions and 100 MB of artifacts by
 * default) between two running local regions, against the same content moved through the ordinary
 * OpenWhisk REST API in the same process: the time to PUT every action and upload every artifact
 * (what import replaces) and to list and GET them all back (what export replaces).
 *
 * <p>Per concurrency level in {@code --clients} a namespace of its own is filled in the source
 * region through the REST API (timed: the baseline write), read back whole (timed: the baseline
 * read), exported with the CLI's own {@link TenantClient} in this JVM (what {@code petrel ns export}
 * does, streamed to a file), checked locally as the CLI checks an archive, and imported into the
 * namespace of the same name in the target region with its admin key (what {@code petrel ns import}
 * sends). Then the target is exported too and its manifest compared entry by entry (path, size,
 * SHA-256) with the source's, and the target's artifact listing with what was uploaded.
 */
@Command(name = "transfer-bench", mixinStandardHelpOptions = true,
        description = "Measure a namespace's export and import between two running local regions against the same content moved through the REST API.")
public final class TransferBench implements Callable<Integer> {

    @Option(names = "--source-data", required = true, paramLabel = "DIR", description = "data folder of the running source region")
    Path sourceData;

    @Option(names = "--target-data", required = true, paramLabel = "DIR", description = "data folder of the running target region")
    Path targetData;

    @Option(names = "--work", required = true, paramLabel = "DIR", description = "scratch folder for archives and the files the baseline read writes")
    Path work;

    @Option(names = "--actions", defaultValue = "1000", description = "actions per namespace (default ${DEFAULT-VALUE})")
    int actions;

    @Option(names = "--artifacts", defaultValue = "10", description = "artifacts per namespace (default ${DEFAULT-VALUE})")
    int artifacts;

    @Option(names = "--artifact-bytes", defaultValue = "10000000", description = "bytes per artifact, random (default ${DEFAULT-VALUE}: 10 x 10 MB = 100 MB)")
    int artifactBytes;

    @Option(names = "--clients", split = ",", defaultValue = "1,8",
            description = "concurrent clients of the REST API baseline; one namespace per level (default ${DEFAULT-VALUE})")
    List<Integer> clientLevels;

    @Option(names = "--warmup-seconds", defaultValue = "30",
            description = "mixed requests on both regions before anything is measured, so the JIT has compiled the hot paths (default ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--phase-timeout-seconds", defaultValue = "900", description = "a phase that takes longer fails the run (default ${DEFAULT-VALUE})")
    int phaseTimeoutSeconds;

    @Option(names = "--on-conflict", defaultValue = "fail", description = "the import's onConflict (default ${DEFAULT-VALUE}: the target namespace is empty)")
    String onConflict;

    @Option(names = "--report", paramLabel = "FILE", description = "also write the Markdown report here")
    Path report;

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);
    /**
     * Attempts of a request that may be sent again. The gateway resends small writes itself, but it
     * cannot resend a streamed body (an artifact, an archive) when the zone it went to is taken out
     * mid-request, and answers 502 "send the request again": a tenant's tool would, so the driver does,
     * counts it and reports it.
     */
    private static final int MAX_ATTEMPTS = 3;
    /** OpenWhisk's largest page of a list. */
    private static final int LIST_PAGE = 200;
    private static final String WARM_NAMESPACE = "warm";
    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpClient http;
    private final List<Phase> phases = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> retried = java.util.Collections.synchronizedList(new ArrayList<>());

    public static void main(String[] args) {
        System.exit(new CommandLine(new TransferBench()).execute(args));
    }

    /** One region as the driver sees it: its API address (the gateways' shared one), admin key and server processes. */
    record Region(String label, RegionLayout layout, String api, String adminKey, CpuMeter cpu) {
    }

    /** A namespace in a region with the admin key the admin API gave for it (a namespace's first key is its admin). */
    record Tenant(Region region, String namespace, String auth) {
        String basic() {
            return "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
        }

        String path(String collection, String name) {
            return region.api() + "/api/v1/namespaces/" + namespace + "/" + collection + "/" + name;
        }

        TenantClient transferClient() {
            return new TenantClient(new RegionEndpoints(List.of(URI.create(region.api())), Optional.empty()), auth, JSON);
        }
    }

    /** An action as the baseline PUTs it: its name and the JSON body. */
    record ActionSpec(String name, byte[] body) {
    }

    /** An artifact: its name (with a folder), its bytes and their SHA-256. */
    record ArtifactSpec(String name, byte[] data, String sha256) {
    }

    /** What one namespace is filled with. */
    record Content(List<ActionSpec> actions, List<ArtifactSpec> artifacts) {
        long artifactBytes() {
            return artifacts.stream().mapToLong(a -> a.data().length).sum();
        }

        long actionBytes() {
            return actions.stream().mapToLong(a -> a.body().length).sum();
        }
    }

    /** A measured phase: requests sent, bytes moved in request or response bodies, wall time and CPU. */
    record Phase(String what, String namespace, String region, int clients, long requests, long bytes, double seconds, int retries, CpuUse cpu) {
        double megabytesPerSecond() {
            return bytes / 1e6 / seconds;
        }
    }

    /** The result of comparing the target's archive with the source's. */
    record Verification(String namespace, int compared, int differing, List<String> firstDifferences, int sourceKeys, int sourceKeysInTarget,
                        int targetActionsListed, int targetArtifactsMatching, long targetArtifactBytes) {
        boolean identical(int actions, int artifacts) {
            return differing == 0 && sourceKeysInTarget == sourceKeys && targetActionsListed == actions && targetArtifactsMatching == artifacts;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (actions < 1 || actions > 100_000 || artifacts < 0 || artifacts > 1000 || artifactBytes < 1) {
            throw new IllegalArgumentException("--actions must be 1 to 100000, --artifacts 0 to 1000, --artifact-bytes positive");
        }
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        Region source = region("source", sourceData);
        Region target = region("target", targetData);
        Files.createDirectories(work);

        Map<Integer, Tenant[]> tenants = new TreeMap<>();
        Tenant sourceWarm = tenant(source, WARM_NAMESPACE);
        Tenant targetWarm = tenant(target, WARM_NAMESPACE);
        for (int clients : clientLevels) {
            if (clients < 1 || clients > 64) {
                throw new IllegalArgumentException("--clients levels must be 1 to 64, got " + clients);
            }
            String ns = "xfer-c" + clients;
            tenants.put(clients, new Tenant[]{tenant(source, ns), tenant(target, ns)});
        }

        warmUp(sourceWarm, targetWarm);

        List<Verification> verifications = new ArrayList<>();
        try {
            measure(tenants, verifications);
        } catch (Exception e) {
            // What was measured before the failure is real too: it goes into the report, marked as a failed run.
            notes.add("**The run failed** after the phases above: " + e.getMessage());
            writeReport(markdown(source, target, verifications));
            throw e;
        }
        writeReport(markdown(source, target, verifications));
        return 0;
    }

    private void writeReport(String md) throws IOException {
        System.out.println();
        System.out.println(md);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.writeString(report, md);
        }
    }

    private void measure(Map<Integer, Tenant[]> tenants, List<Verification> verifications) throws Exception {
        for (var level : tenants.entrySet()) {
            int clients = level.getKey();
            Tenant from = level.getValue()[0];
            Tenant to = level.getValue()[1];
            // Different bytes per namespace: chunks are content-addressed, and a second upload of equal bytes would only raise counts.
            Content content = content(from.namespace(), clients);
            System.out.printf(Locale.ROOT, "%n== namespace %s: %d actions (%,d bytes of JSON), %d artifacts (%,d bytes); REST API with %d client(s)%n",
                    from.namespace(), content.actions().size(), content.actionBytes(), content.artifacts().size(), content.artifactBytes(), clients);
            apiWrite(from, content, clients);
            Path readDir = work.resolve("read-" + from.namespace());
            apiRead(from, content, clients, readDir);
            deleteTree(readDir);

            Path archive = work.resolve(from.namespace() + "-source.zip");
            ArchiveManifest sourceManifest = export(from, archive, "export (GET /export, one request)");
            check(sourceManifest, content, from.namespace());
            JsonNode imported = importArchive(to, archive);
            int created = imported.path("created").path("count").asInt();
            int overwritten = imported.path("overwritten").path("count").asInt();
            int skipped = imported.path("skipped").path("count").asInt();
            int unchanged = imported.path("unchanged").path("count").asInt();
            if (created + unchanged < actions + artifacts || skipped != 0) {
                throw new IllegalStateException("the import into " + to.namespace() + " created " + created + ", overwrote " + overwritten
                        + ", skipped " + skipped + "; expected at least " + (actions + artifacts) + " created: " + imported);
            }
            notes.add(String.format(Locale.ROOT, "Import into %s answered: created %d, overwritten %d, skipped %d, deleted %d, unchanged %d.",
                    to.namespace(), created, overwritten, skipped, imported.path("deleted").path("count").asInt(),
                    imported.path("unchanged").path("count").asInt()));

            Path copy = work.resolve(to.namespace() + "-target.zip");
            ArchiveManifest targetManifest = export(to, copy, "export of the copy (verification)");
            Verification v = verify(sourceManifest, targetManifest, to, content);
            verifications.add(v);
            System.out.printf(Locale.ROOT, "verification of %s: %d entries compared, %d differ; %d of %d source keys in the target; target lists %d actions,"
                            + " %d artifacts with the uploaded size and sha256%n", v.namespace(), v.compared(), v.differing(), v.sourceKeysInTarget(),
                    v.sourceKeys(), v.targetActionsListed(), v.targetArtifactsMatching());
            if (!v.identical(actions, artifacts)) {
                throw new IllegalStateException("the target's copy of " + to.namespace() + " is not the source's: " + v);
            }
            Files.deleteIfExists(archive);
            Files.deleteIfExists(copy);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Set-up

    private Region region(String label, Path data) throws IOException {
        RegionLayout layout = RegionLayout.load(data);
        String api = "http://" + layout.sharedApi();
        if (!Loopback.isLoopbackUrl(api)) {
            throw new IllegalArgumentException("the benchmark only drives local regions; " + api + " is not a loopback address");
        }
        // Zones and gateways: every process the region's requests pass through.
        List<Long> pids = new ArrayList<>();
        for (ZoneSpec z : layout.zones()) {
            pids.add(pid(z.dataDir().resolve("node.pid")));
        }
        for (GatewaySpec g : layout.gateways()) {
            pids.add(pid(g.dataDir().resolve("gateway.pid")));
        }
        return new Region(label, layout, api, Files.readString(layout.adminKeyFile()).trim(), new CpuMeter(pids));
    }

    private static long pid(Path file) throws IOException {
        return Long.parseLong(Files.readString(file).trim().split("\\s+")[0]);
    }

    /** A new namespace through the admin API; an existing one would hold an earlier run's content, so it is refused. */
    private Tenant tenant(Region r, String ns) throws Exception {
        String admin = "Bearer " + r.adminKey();
        HttpResponse<String> exists = http.send(request("GET", r.api() + "/admin/v1/namespaces/" + ns, admin, null), HttpResponse.BodyHandlers.ofString());
        if (exists.statusCode() != 404) {
            throw new IllegalStateException("namespace " + ns + " in the " + r.label() + " region answered " + exists.statusCode()
                    + " (not 404): the benchmark needs fresh regions");
        }
        HttpResponse<String> created = http.send(request("POST", r.api() + "/admin/v1/namespaces", admin,
                HttpRequest.BodyPublishers.ofString("{\"name\":\"" + ns + "\"}")), HttpResponse.BodyHandlers.ofString());
        if (created.statusCode() != 201) {
            throw new IOException("cannot create namespace " + ns + " in the " + r.label() + " region: " + created.statusCode() + " " + created.body());
        }
        return new Tenant(r, ns, JSON.readTree(created.body()).path("auth").asText());
    }

    /**
     * Freshly started zone JVMs are still compiling: both regions get mixed API requests (action PUT
     * and GET, 1 MB artifact PUT and GET), then one small export and import, so neither the baseline
     * nor the transfer pays for the JIT alone.
     */
    private void warmUp(Tenant source, Tenant target) throws Exception {
        System.out.printf("warming both regions up for %d s ...%n", warmupSeconds);
        byte[] code = actionBody("warm", 0);
        Tenant[] both = {source, target};
        ClosedLoopResult r = new ClosedLoop(4, Duration.ZERO, Duration.ofSeconds(Math.max(1, warmupSeconds)), REQUEST_TIMEOUT, CpuMeter.NONE)
                .run("warm", (c, seq) -> {
                    Tenant t = both[c % 2];
                    String action = t.path("actions", "warm-" + c + "-" + (seq % 100));
                    switch ((int) (seq % 4)) {
                        case 0 -> send(request("PUT", action + "?overwrite=true", t.basic(), HttpRequest.BodyPublishers.ofByteArray(code)));
                        case 1 -> send(request("GET", t.path("actions", "warm-" + c + "-0"), t.basic(), null));
                        case 2 -> {
                            byte[] data = new byte[1 << 20];
                            ThreadLocalRandom.current().nextBytes(data);
                            send(artifactPut(t, "warm/" + c + ".bin", data, true));
                        }
                        default -> send(request("GET", t.path("artifacts", "warm/" + c + ".bin"), t.basic(), null));
                    }
                });
        System.out.printf(Locale.ROOT, "warm-up: %d requests, %d failed%s%n", r.ops(), r.errors(), r.firstError() == null ? "" : " (" + r.firstError() + ")");
        if (r.errors() > 0) {
            notes.add("The warm-up had " + r.errors() + " failed requests of " + (r.ops() + r.errors()) + " (first: " + r.firstError() + ").");
        }
        Path archive = work.resolve("warm.zip");
        try (OutputStream out = Files.newOutputStream(archive)) {
            source.transferClient().export(WARM_NAMESPACE, OptionalLong.empty(), Optional.empty(), out, progress("warm export"));
        }
        NamespaceArchive.verify(archive, JSON);
        target.transferClient().importArchive(WARM_NAMESPACE, archive, "?onConflict=overwrite", progress("warm import"));
        Files.delete(archive);
    }

    /** The namespace's content, made before anything is timed. */
    private Content content(String ns, int salt) throws Exception {
        List<ActionSpec> a = new ArrayList<>();
        for (int i = 0; i < actions; i++) {
            a.add(new ActionSpec(actionName(i), actionBody(ns, i)));
        }
        List<ArtifactSpec> f = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(0x7E57_0000L + salt);
        for (int i = 0; i < artifacts; i++) {
            byte[] data = new byte[artifactBytes];
            random.nextBytes(data);
            f.add(new ArtifactSpec(String.format(Locale.ROOT, "models/artifact-%02d.bin", i), data, sha256(data)));
        }
        return new Content(a, f);
    }

    private static String actionName(int i) {
        return String.format(Locale.ROOT, "action-%04d", i);
    }

    /** Small nodejs code, different per action and namespace, with a parameter and an annotation, as a tenant's action would have. */
    private static byte[] actionBody(String ns, int i) {
        String code = "function main(params) { return { action: " + i + ", namespace: '" + ns + "', greeting: 'hello ' + (params.name || 'world') } }";
        return ("{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"" + code + "\"},\"parameters\":[{\"key\":\"name\",\"value\":\"world\"}],"
                + "\"annotations\":[{\"key\":\"bench\",\"value\":\"transfer\"},{\"key\":\"index\",\"value\":" + i + "}]}").getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------------------------------
    // The baseline: the same content through the ordinary REST API

    /** PUT every action, then upload every artifact, with {@code clients} requests in flight: what an import replaces. */
    private void apiWrite(Tenant t, Content content, int clients) throws Exception {
        List<Callable<Long>> tasks = new ArrayList<>();
        for (ActionSpec a : content.actions()) {
            tasks.add(() -> {
                send(request("PUT", t.path("actions", a.name()), t.basic(), HttpRequest.BodyPublishers.ofByteArray(a.body())));
                return (long) a.body().length;
            });
        }
        AtomicInteger retries = new AtomicInteger();
        for (ArtifactSpec f : content.artifacts()) {
            // With overwrite, as deploy tools upload: sending it again after a cut-off attempt is then safe.
            tasks.add(() -> retrying("PUT artifact " + f.name(), retries, () -> {
                HttpResponse<byte[]> r = send(artifactPut(t, f.name(), f.data(), true));
                String stored = JSON.readTree(r.body()).path("sha256").asText();
                if (!stored.equals(f.sha256())) {
                    throw new IllegalStateException("artifact " + f.name() + " was stored with sha256 " + stored + ", sent " + f.sha256());
                }
                return (long) f.data().length;
            }));
        }
        CpuMeter.Snapshot cpu = t.region().cpu().now();
        long t0 = System.nanoTime();
        long bytes = runAll("API write", tasks, clients).stream().mapToLong(Long::longValue).sum();
        record(new Phase("API write (PUT each action, upload each artifact)", t.namespace(), t.region().label(), clients, tasks.size() + retries.get(), bytes,
                (System.nanoTime() - t0) / 1e9, retries.get(), t.region().cpu().since(cpu)));
    }

    /**
     * List every action and artifact, GET each one and keep it in a file (the actions' JSON with
     * their code, the artifacts' bytes, checked against the SHA-256 uploaded): what an export replaces.
     */
    private void apiRead(Tenant t, Content content, int clients, Path dir) throws Exception {
        Files.createDirectories(dir.resolve("actions"));
        Files.createDirectories(dir.resolve("artifacts"));
        Map<String, String> expected = new HashMap<>();
        content.artifacts().forEach(f -> expected.put(f.name(), f.sha256()));
        CpuMeter.Snapshot cpu = t.region().cpu().now();
        long t0 = System.nanoTime();
        AtomicLong listBytes = new AtomicLong();
        AtomicInteger retries = new AtomicInteger();
        // The listings come first, one after another: a tenant does not know the names before.
        List<String> actionNames = new ArrayList<>();
        int pages = 0;
        for (int skip = 0; pages < actions / LIST_PAGE + 2; skip += LIST_PAGE) {
            pages++;
            String url = t.region().api() + "/api/v1/namespaces/" + t.namespace() + "/actions?limit=" + LIST_PAGE + "&skip=" + skip;
            JsonNode page = JSON.readTree(countBytes(retrying("list actions", retries, () -> send(request("GET", url, t.basic(), null))), listBytes));
            page.forEach(n -> actionNames.add(n.path("name").asText()));
            if (page.size() < LIST_PAGE) {
                break;
            }
        }
        String artifactsUrl = t.region().api() + "/api/v1/namespaces/" + t.namespace() + "/artifacts?limit=1000";
        JsonNode artifactList = JSON.readTree(countBytes(retrying("list artifacts", retries, () -> send(request("GET", artifactsUrl, t.basic(), null))),
                listBytes));
        pages++;
        List<String> artifactNames = new ArrayList<>();
        artifactList.forEach(n -> artifactNames.add(n.path("name").asText()));
        if (actionNames.size() != actions || artifactNames.size() != artifacts) {
            throw new IllegalStateException("the listings of " + t.namespace() + " name " + actionNames.size() + " actions and " + artifactNames.size()
                    + " artifacts; " + actions + " and " + artifacts + " were written");
        }
        List<Callable<Long>> tasks = new ArrayList<>();
        for (String name : actionNames) {
            tasks.add(() -> retrying("GET action " + name, retries, () -> {
                Path file = dir.resolve("actions").resolve(name + ".json");
                send(request("GET", t.path("actions", name), t.basic(), null), HttpResponse.BodyHandlers.ofFile(file));
                return Files.size(file);
            }));
        }
        for (String name : artifactNames) {
            tasks.add(() -> retrying("GET artifact " + name, retries, () -> {
                HttpResponse<InputStream> r = send(request("GET", t.path("artifacts", name), t.basic(), null), HttpResponse.BodyHandlers.ofInputStream());
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                long n;
                try (InputStream in = new DigestInputStream(r.body(), sha);
                     OutputStream out = Files.newOutputStream(dir.resolve("artifacts").resolve(name.replace('/', '_')))) {
                    n = in.transferTo(out);
                }
                String got = HexFormat.of().formatHex(sha.digest());
                if (!got.equals(expected.get(name))) {
                    throw new IllegalStateException("artifact " + name + " read back with sha256 " + got + ", uploaded " + expected.get(name));
                }
                return n;
            }));
        }
        long bytes = runAll("API read", tasks, clients).stream().mapToLong(Long::longValue).sum() + listBytes.get();
        record(new Phase("API read (list, GET each action and artifact to files)", t.namespace(), t.region().label(), clients,
                tasks.size() + pages + retries.get(), bytes, (System.nanoTime() - t0) / 1e9, retries.get(), t.region().cpu().since(cpu)));
    }

    // ------------------------------------------------------------------------------------------
    // Export and import, with the CLI's own client in this JVM

    /**
     * What {@code petrel ns export} does, timed in two parts: the request (the zone writes the
     * archive to a temporary file, then streams it; written here beside the target file as the CLI
     * does), then the local check of every entry's size and SHA-256 and of the zip's directory.
     */
    private ArchiveManifest export(Tenant t, Path file, String what) throws Exception {
        Files.deleteIfExists(file);
        CpuMeter.Snapshot cpu = t.region().cpu().now();
        long t0 = System.nanoTime();
        AtomicInteger retries = new AtomicInteger();
        TenantClient.Exported exported = retrying("export " + t.namespace(), retries, () -> {
            // Each attempt from the start of the file, as `petrel ns export` run again would.
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024)) {
                return t.transferClient().export(t.namespace(), OptionalLong.empty(), Optional.empty(), out, progress("export " + t.namespace()));
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        requireWithin(seconds, what);
        record(new Phase(what, t.namespace(), t.region().label(), 1, 1 + retries.get(), exported.bytes(), seconds, retries.get(),
                t.region().cpu().since(cpu)));
        if (exported.bytes() != Files.size(file)) {
            throw new IllegalStateException("the export of " + t.namespace() + " counted " + exported.bytes() + " bytes, the file has " + Files.size(file));
        }
        CpuMeter.Snapshot driverCpu = CpuMeter.NONE.now();
        long t1 = System.nanoTime();
        ArchiveManifest m = NamespaceArchive.verify(file, JSON);
        double checkSeconds = (System.nanoTime() - t1) / 1e9;
        if (what.startsWith("export (")) {
            record(new Phase("local check of the archive (as `ns export` and `ns import` do)", t.namespace(), "driver", 1, 0, Files.size(file),
                    checkSeconds, 0, CpuMeter.NONE.since(driverCpu)));
        }
        return m;
    }

    /** What {@code petrel ns import} sends: the archive as one {@code POST /import}, with the target namespace's admin key. */
    private JsonNode importArchive(Tenant t, Path file) throws Exception {
        CpuMeter.Snapshot cpu = t.region().cpu().now();
        long t0 = System.nanoTime();
        AtomicInteger retries = new AtomicInteger();
        // Sending an import again is safe (api/README.md): what the first attempt wrote is found unchanged.
        JsonNode report = retrying("import " + t.namespace(), retries,
                () -> t.transferClient().importArchive(t.namespace(), file, "?onConflict=" + onConflict, progress("import " + t.namespace())));
        double seconds = (System.nanoTime() - t0) / 1e9;
        requireWithin(seconds, "import");
        record(new Phase("import (POST /import, one request)", t.namespace(), t.region().label(), 1, 1 + retries.get(), Files.size(file), seconds,
                retries.get(), t.region().cpu().since(cpu)));
        return report;
    }

    /** The source archive holds what the baseline wrote: every action, every artifact with the uploaded SHA-256. */
    private void check(ArchiveManifest m, Content content, String ns) {
        Map<String, String> artifactShas = new HashMap<>();
        long actionEntries = 0;
        long codeEntries = 0;
        for (ArchiveEntry e : m.entries()) {
            switch (e.kind()) {
                case ACTION -> actionEntries++;
                case ACTION_CODE -> codeEntries++;
                case ARTIFACT_DATA -> artifactShas.put(e.name(), e.sha256());
                default -> {
                }
            }
        }
        Map<String, String> uploaded = new HashMap<>();
        content.artifacts().forEach(f -> uploaded.put(f.name(), f.sha256()));
        if (actionEntries != actions || codeEntries != actions || !artifactShas.equals(uploaded)) {
            throw new IllegalStateException("the archive of " + ns + " holds " + actionEntries + " actions, " + codeEntries + " code entries and "
                    + artifactShas.size() + " artifacts (" + (artifactShas.equals(uploaded) ? "as uploaded" : "not as uploaded") + ")");
        }
    }

    /**
     * The copy is the source's: every entry of the source's archive but its keys (actions, their
     * code, artifacts, their bytes, a policy if any) is in the target's archive at the same path with
     * the same size and SHA-256 and the target has no other; the source's key identities are among
     * the target's (which also has its own admin key). Then the target's REST API is asked too.
     */
    private Verification verify(ArchiveManifest source, ArchiveManifest target, Tenant t, Content content) throws Exception {
        Map<String, String> from = new TreeMap<>();
        Map<String, String> to = new TreeMap<>();
        Set<String> sourceKeys = new LinkedHashSet<>();
        Set<String> targetKeys = new LinkedHashSet<>();
        for (ArchiveEntry e : source.entries()) {
            if (e.kind() == NamespaceArchive.Kind.KEY) {
                sourceKeys.add(e.path() + " " + e.size() + " " + e.sha256());
            } else {
                from.put(e.path(), e.size() + " " + e.sha256());
            }
        }
        for (ArchiveEntry e : target.entries()) {
            if (e.kind() == NamespaceArchive.Kind.KEY) {
                targetKeys.add(e.path() + " " + e.size() + " " + e.sha256());
            } else {
                to.put(e.path(), e.size() + " " + e.sha256());
            }
        }
        List<String> differences = new ArrayList<>();
        Set<String> paths = new LinkedHashSet<>(from.keySet());
        paths.addAll(to.keySet());
        int differing = 0;
        for (String path : paths) {
            String a = from.get(path);
            String b = to.get(path);
            if (a == null || !a.equals(b)) {
                differing++;
                if (differences.size() < 5) {
                    differences.add(path + ": source " + a + ", target " + b);
                }
            }
        }
        int keysInTarget = (int) sourceKeys.stream().filter(targetKeys::contains).count();

        // The target's own API: every action listed, every artifact with the size and SHA-256 that was uploaded.
        int listed = 0;
        for (int skip = 0, pages = 0; pages < actions / LIST_PAGE + 2; skip += LIST_PAGE, pages++) {
            JsonNode page = JSON.readTree(send(request("GET", t.region().api() + "/api/v1/namespaces/" + t.namespace() + "/actions?limit=" + LIST_PAGE
                    + "&skip=" + skip, t.basic(), null)).body());
            listed += page.size();
            if (page.size() < LIST_PAGE) {
                break;
            }
        }
        Map<String, ArtifactSpec> uploaded = new HashMap<>();
        content.artifacts().forEach(f -> uploaded.put(f.name(), f));
        int matching = 0;
        long artifactBytesListed = 0;
        for (JsonNode a : JSON.readTree(send(request("GET", t.region().api() + "/api/v1/namespaces/" + t.namespace() + "/artifacts?limit=1000",
                t.basic(), null)).body())) {
            ArtifactSpec f = uploaded.get(a.path("name").asText());
            artifactBytesListed += a.path("size").asLong();
            if (f != null && a.path("size").asLong() == f.data().length && a.path("sha256").asText().equals(f.sha256())) {
                matching++;
            }
        }
        return new Verification(t.namespace(), paths.size(), differing, differences, sourceKeys.size(), keysInTarget, listed, matching,
                artifactBytesListed);
    }

    // ------------------------------------------------------------------------------------------
    // The report

    private Phase find(String prefix, String ns) {
        return phases.stream().filter(p -> p.what().startsWith(prefix) && p.namespace().equals(ns)).findFirst().orElseThrow();
    }

    private String markdown(Region source, Region target, List<Verification> verifications) {
        StringBuilder s = new StringBuilder();
        s.append("Transfer benchmark, ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\n\n");
        s.append(String.format(Locale.ROOT, "Source region: zones %s, gateways %s; target region: zones %s, gateways %s. Every request goes to"
                        + " the region's shared API address (%s and %s: its gateways). Per namespace: %,d actions (nodejs:20, about %d bytes of JSON"
                        + " each) and %d artifacts of %,d random bytes (%.1f MB). Export and import run the CLI's own client (`TenantClient`, as"
                        + " `petrel ns export|import` do) in the driver's JVM; the import uses `onConflict=%s` and the target namespace's admin key.%n%n",
                hosts(source.layout()), gatewayHosts(source.layout()), hosts(target.layout()), gatewayHosts(target.layout()), source.api(), target.api(),
                actions, actionBody("xfer-c1", actions / 2).length,
                artifacts, artifactBytes, (double) artifacts * artifactBytes / 1e6, onConflict));
        s.append("| phase | namespace | region | API clients | requests | retries | MB moved | seconds | MB/s | server CPU (s) | driver CPU (s) |\n");
        s.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Phase p : phases) {
            s.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %,d | %d | %.1f | %.2f | %.1f | %s | %s |%n", p.what(), p.namespace(), p.region(),
                    p.what().startsWith("API") ? Integer.toString(p.clients()) : "–", p.requests(), p.retries(), p.bytes() / 1e6, p.seconds(),
                    p.megabytesPerSecond(), cpu(p.cpu().serverSeconds()), cpu(p.cpu().clientSeconds())));
        }
        s.append("\nMB moved: bytes in request bodies (writes, import) or response bodies (reads, export), 10^6 bytes to the MB. Server CPU: the"
                + " region's three zones and two gateways together.\n\n");
        s.append("Against the REST API in the same run (time ratio: below 1 is faster than the API):\n\n");
        s.append("| transfer | compared with | API clients | transfer (s) | API (s) | transfer / API time | API / transfer |\n");
        s.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (Verification v : verifications) {
            String ns = v.namespace();
            Phase write = find("API write", ns);
            Phase read = find("API read", ns);
            Phase export = find("export (", ns);
            Phase check = find("local check", ns);
            Phase imported = find("import (", ns);
            ratio(s, "export (the request)", "API read", read.clients(), export.seconds(), read.seconds());
            ratio(s, "export + local check (`petrel ns export`)", "API read", read.clients(), export.seconds() + check.seconds(), read.seconds());
            ratio(s, "import (the request)", "API write", write.clients(), imported.seconds(), write.seconds());
            ratio(s, "local check + import (`petrel ns import`)", "API write", write.clients(), check.seconds() + imported.seconds(), write.seconds());
        }
        s.append("\nVerification (every number from the regions' own answers):\n\n");
        for (Verification v : verifications) {
            s.append(String.format(Locale.ROOT, "- `%s`: the target's archive and the source's agree on all %,d non-key entries (path, size, SHA-256;"
                            + " %d differ%s); %d of %d source key identities are in the target; the target lists %,d actions and %d artifacts with the"
                            + " uploaded size and SHA-256 (%,d bytes).%n", v.namespace(), v.compared(), v.differing(),
                    v.firstDifferences().isEmpty() ? "" : ": " + String.join("; ", v.firstDifferences()), v.sourceKeysInTarget(), v.sourceKeys(),
                    v.targetActionsListed(), v.targetArtifactsMatching(), v.targetArtifactBytes()));
        }
        for (String note : notes) {
            s.append("- ").append(note).append("\n");
        }
        synchronized (retried) {
            s.append(retried.isEmpty() ? "- No request was sent again.\n" : "- Requests sent again (" + retried.size() + "):\n");
            retried.stream().limit(20).forEach(r -> s.append("  - ").append(r).append("\n"));
        }
        return s.toString();
    }

    private static void ratio(StringBuilder s, String what, String against, int clients, double transfer, double api) {
        s.append(String.format(Locale.ROOT, "| %s | %s | %d | %.2f | %.2f | %.2f | %.1fx |%n", what, against, clients, transfer, api, transfer / api,
                api / transfer));
    }

    private static String cpu(double seconds) {
        return Double.isNaN(seconds) ? "–" : String.format(Locale.ROOT, "%.1f", seconds);
    }

    private static String hosts(RegionLayout l) {
        return String.join(", ", l.zones().stream().map(ZoneSpec::host).toList());
    }

    private static String gatewayHosts(RegionLayout l) {
        return String.join(", ", l.gateways().stream().map(GatewaySpec::host).toList());
    }

    // ------------------------------------------------------------------------------------------
    // Plumbing

    private TransferProgress progress(String label) {
        return new TransferProgress(label, new PrintWriter(System.err, true), System::nanoTime);
    }

    private void requireWithin(double seconds, String what) {
        if (seconds > phaseTimeoutSeconds) {
            throw new IllegalStateException(what + " took " + seconds + " s, more than --phase-timeout-seconds " + phaseTimeoutSeconds);
        }
    }

    /** Runs every task with {@code clients} threads; the first failure, or the phase's time bound, fails the run. */
    private <T> List<T> runAll(String what, List<Callable<T>> tasks, int clients) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients, Thread.ofPlatform().daemon().name("bench-" + what.replace(' ', '-') + "-", 0).factory());
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) {
                futures.add(pool.submit(task));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(phaseTimeoutSeconds);
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    results.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (TimeoutException e) {
                    throw new IllegalStateException(what + " did not finish within --phase-timeout-seconds " + phaseTimeoutSeconds);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException(what + " failed: " + e.getCause().getMessage(), e.getCause());
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** An answer that says the request may be sent again: the gateway's 502/503/504. */
    static final class Retryable extends IllegalStateException {
        Retryable(String message) {
            super(message);
        }
    }

    /**
     * Runs an idempotent request (a GET, an artifact PUT with overwrite, an export, an import) again
     * after an answer that says so or a broken connection, at most {@link #MAX_ATTEMPTS} times; every
     * retry is counted in its phase and listed in the report.
     */
    private <T> T retrying(String what, AtomicInteger retries, Callable<T> request) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return request.call();
            } catch (Retryable | IOException | TenantClient.TransferException e) {
                boolean again = !(e instanceof TenantClient.TransferException te) || te.status() == 0 || te.status() == 502 || te.status() == 503
                        || te.status() == 504;
                if (!again || attempt >= MAX_ATTEMPTS) {
                    throw e;
                }
                retries.incrementAndGet();
                retried.add(String.format(Locale.ROOT, "%s, attempt %d: %s", what, attempt, e.getMessage()));
                System.out.printf("retrying %s after: %s%n", what, e.getMessage());
                Thread.sleep(500);
            }
        }
    }

    private void record(Phase p) {
        phases.add(p);
        System.out.printf(Locale.ROOT, "%-62s %-8s %-7s %2d client(s) %5d requests (%d retries) %8.1f MB %7.2f s %7.1f MB/s  server CPU %s s%n",
                p.what(), p.namespace(), p.region(), p.clients(), p.requests(), p.retries(), p.bytes() / 1e6, p.seconds(), p.megabytesPerSecond(),
                Double.isNaN(p.cpu().serverSeconds()) ? "-" : String.format(Locale.ROOT, "%.1f", p.cpu().serverSeconds()));
    }

    private static HttpRequest request(String method, String url, String authorization, HttpRequest.BodyPublisher body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return b.build();
    }

    private static HttpRequest artifactPut(Tenant t, String name, byte[] data, boolean overwrite) {
        return HttpRequest.newBuilder(URI.create(t.path("artifacts", name) + (overwrite ? "?overwrite=true" : ""))).timeout(REQUEST_TIMEOUT)
                .header("Authorization", t.basic()).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build();
    }

    private HttpResponse<byte[]> send(HttpRequest r) throws Exception {
        return send(r, HttpResponse.BodyHandlers.ofByteArray());
    }

    private <T> HttpResponse<T> send(HttpRequest r, HttpResponse.BodyHandler<T> handler) throws Exception {
        HttpResponse<T> response = http.send(r, handler);
        if (response.statusCode() != 200) {
            Object body = response.body();
            String text = body instanceof byte[] b ? new String(b, 0, Math.min(b.length, 300), StandardCharsets.UTF_8) : "";
            if (body instanceof InputStream in) {
                // An error answer's stream is read and closed, so that its connection goes back to the pool.
                try (in) {
                    text = new String(in.readNBytes(300), StandardCharsets.UTF_8);
                }
            }
            String message = r.method() + " " + r.uri().getPath() + " answered " + response.statusCode() + " " + text;
            int status = response.statusCode();
            throw status == 502 || status == 503 || status == 504 ? new Retryable(message) : new IllegalStateException(message);
        }
        // The baseline must take the path the transfers take: through one of the region's gateways.
        if (response.headers().firstValue("X-Petrel-Gateway").isEmpty()) {
            throw new IllegalStateException(r.method() + " " + r.uri().getPath() + " was answered without X-Petrel-Gateway: not through a gateway");
        }
        return response;
    }

    private static byte[] countBytes(HttpResponse<byte[]> r, AtomicLong counter) {
        counter.addAndGet(r.body().length);
        return r.body();
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
