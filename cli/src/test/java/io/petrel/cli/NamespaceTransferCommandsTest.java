package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.transfer.ArchiveManifest;
import io.petrel.api.transfer.NamespaceArchive;
import io.petrel.node.NodeConfig;
import io.petrel.node.ZoneNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.Properties;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code petrel ns export|import|sync} as a tenant runs them, with the tenant's own keys, between two
 * regions that are each a real zone node (its store, its API) in this JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NamespaceTransferCommandsTest {
    private static final String ADMIN = "transfer-commands-admin-key-0123456789abcdef";
    /** Code above 512 KiB: kept as a blob in both regions. */
    private static final String BIG_CODE = "function main() { return {} }\n// " + "b".repeat(700_000);
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Path dir;
    private ZoneNode source;
    private ZoneNode target;
    private String sourceApi;
    private String targetApi;

    @BeforeAll
    void start() throws Exception {
        dir = PetrelCli.freshDataDir("petrel-transfer-commands");
        Files.writeString(dir.resolve("admin.key"), ADMIN);
        source = node("source");
        target = node("target");
        sourceApi = "http://127.0.0.1:" + source.apiPort();
        targetApi = "http://127.0.0.1:" + target.apiPort();
        for (String api : new String[] {sourceApi, targetApi}) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> send(api, "Bearer " + ADMIN, "GET", "/admin/v1/namespaces", null)
                    .statusCode() == 200);
        }
    }

    private ZoneNode node(String region) throws Exception {
        Properties p = new Properties();
        p.setProperty("region", region);
        p.setProperty("zone", "a");
        try (ServerSocket s = new ServerSocket(0)) {
            p.setProperty("peers", "a=127.0.0.1:" + s.getLocalPort());
        }
        p.setProperty("data", dir.resolve(region).toString());
        p.setProperty("http", "127.0.0.1:0");
        p.setProperty("api", "127.0.0.1:0");
        p.setProperty("disk.reserve.bytes", "0");
        p.setProperty("drain.ms", "0");
        p.setProperty("admin.key.file", dir.resolve("admin.key").toString());
        return ZoneNode.start(NodeConfig.fromProperties(p));
    }

    @AfterAll
    void stop() throws Exception {
        source.close();
        target.close();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    private HttpResponse<String> send(String api, String auth, String method, String path, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", auth.startsWith("Bearer ") ? auth : "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            b.header("Content-Type", path.contains("/artifacts/") ? "application/octet-stream" : "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
        return json.readTree(r.body());
    }

    private String createNamespace(String api, String ns) throws Exception {
        return ok(send(api, "Bearer " + ADMIN, "POST", "/admin/v1/namespaces", ("{\"name\":\"" + ns + "\"}").getBytes())).path("auth").asText();
    }

    private void put(String api, String auth, String path, String body) throws Exception {
        ok(send(api, auth, "PUT", "/api/v1/namespaces/_" + path, body.getBytes(StandardCharsets.UTF_8)));
    }

    private static String action(String code) {
        return "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":" + new ObjectMapper().valueToTree(code) + "}}";
    }

    /** Checks that the command succeeded, and shows what it printed, as a user would see it. */
    private PetrelCli.Result ok(PetrelCli.Result r) {
        System.out.print(r.out() + r.err());
        assertThat(r.code()).as(r.err()).isZero();
        return r;
    }

    /** What an archive holds: every entry's path, size and digest. */
    private TreeSet<String> content(Path archive) throws Exception {
        ArchiveManifest m = NamespaceArchive.verify(archive, json);
        TreeSet<String> out = new TreeSet<>();
        m.entries().forEach(e -> out.add(e.path() + " " + e.size() + " " + e.sha256()));
        return out;
    }

    private void populate(String api, String auth) throws Exception {
        put(api, auth, "/packages/lib", "{\"publish\":true}");
        put(api, auth, "/actions/lib/util", action("function main() { return {util: 1} }"));
        put(api, auth, "/actions/hello", action("function main(p) { return {hi: p.name} }"));
        put(api, auth, "/actions/big", action(BIG_CODE));
        put(api, auth, "/triggers/tick", "{}");
        put(api, auth, "/rules/on-tick", "{\"trigger\":\"tick\",\"action\":\"hello\"}");
        byte[] model = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(model);
        ok(send(api, auth, "PUT", "/api/v1/namespaces/_/artifacts/models/m.bin", model));
    }

    @Test
    void anEncryptedExportNeedsItsKeyToBeImported() throws Exception {
        String k1 = createNamespace(sourceApi, "sealed");
        String k2 = createNamespace(targetApi, "sealed");
        put(sourceApi, k1, "/actions/secret", action("function main() { return {secret: 'the tenant only'} }"));
        Path key = dir.resolve("tenant.key");
        Files.writeString(key, java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(32)));
        Path wrongKey = dir.resolve("wrong.key");
        Files.writeString(wrongKey, java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(32)));
        Path file = dir.resolve("sealed.archive");
        ok(PetrelCli.run("ns", "export", "sealed", "--out", file.toString(), "--encrypt-key-file", key.toString(), "--api", sourceApi,
                "--auth", k1));
        String stored = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        assertThat(stored).startsWith("PETREL-SEALED-NAMESPACE-ARCHIVE/1").doesNotContain("the tenant only").doesNotContain("manifest.json");

        PetrelCli.Result noKey = PetrelCli.run("ns", "import", file.toString(), "--api", targetApi, "--auth", k2);
        assertThat(noKey.code()).isNotZero();
        assertThat(noKey.err()).contains("is encrypted").contains("--key-file");
        PetrelCli.Result wrong = PetrelCli.run("ns", "import", file.toString(), "--key-file", wrongKey.toString(), "--api", targetApi, "--auth", k2);
        assertThat(wrong.code()).isNotZero();
        assertThat(wrong.err()).contains("wrong key");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 100] ^= 1;
        Path changed = dir.resolve("changed.archive");
        Files.write(changed, bytes);
        PetrelCli.Result tampered = PetrelCli.run("ns", "import", changed.toString(), "--key-file", key.toString(), "--api", targetApi, "--auth", k2);
        assertThat(tampered.code()).isNotZero();
        assertThat(send(targetApi, k2, "GET", "/api/v1/namespaces/_/actions", null).body()).isEqualTo("[]");

        ok(PetrelCli.run("ns", "import", file.toString(), "--key-file", key.toString(), "--api", targetApi, "--auth", k2));
        assertThat(send(targetApi, k2, "GET", "/api/v1/namespaces/_/actions/secret", null).body()).contains("the tenant only");
    }

    @Test
    void exportThenImportWithEachPolicyFromTheCommandLine() throws Exception {
        String k1 = createNamespace(sourceApi, "acme");
        String k2 = createNamespace(targetApi, "acme");
        populate(sourceApi, k1);
        Path file = dir.resolve("acme.zip");

        long t0 = System.nanoTime();
        PetrelCli.Result export = ok(PetrelCli.run("ns", "export", "acme", "--out", file.toString(), "--api", sourceApi, "--auth", k1));
        System.out.printf("MEASURED petrel ns export in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(export.out()).contains("namespace acme exported at revision").contains("3 actions").contains("1 artifacts");
        assertThat(export.err()).contains("export acme: ").contains("MB/s");
        assertThat(NamespaceArchive.verify(file, json).counts()).containsEntry("packages", 1).containsEntry("rules", 1).containsEntry("keys", 1);
        try (Stream<Path> leftovers = Files.list(dir)) {
            assertThat(leftovers.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".part"));
        }

        PetrelCli.Result dry = ok(PetrelCli.run("ns", "import", file.toString(), "--api", targetApi, "--auth", k2, "--dry-run"));
        assertThat(dry.out()).contains("dry run, nothing was changed").contains("create    actions/hello").contains("create    artifacts/models/m.bin");
        assertThat(send(targetApi, k2, "GET", "/api/v1/namespaces/_/actions", null).body()).isEqualTo("[]");

        long t1 = System.nanoTime();
        PetrelCli.Result imported = ok(PetrelCli.run("ns", "import", file.toString(), "--api", targetApi, "--auth", k2));
        System.out.printf("MEASURED petrel ns import in %d ms%n", (System.nanoTime() - t1) / 1_000_000);
        assertThat(imported.out()).contains("into namespace acme with --on-conflict fail: created 8, overwritten 0");
        assertThat(imported.err()).contains("import acme: ");
        assertThat(ok(send(targetApi, k1, "GET", "/api/v1/namespaces/_/actions/big", null)).path("exec").path("code").asText()).isEqualTo(BIG_CODE);

        // A conflict: the default refuses and changes nothing; skip keeps the target's; overwrite takes the archive's.
        put(targetApi, k2, "/actions/hello?overwrite=true", action("function main() { return {mine: true} }"));
        PetrelCli.Result refused = PetrelCli.run("ns", "import", file.toString(), "--api", targetApi, "--auth", k2);
        assertThat(refused.code()).isNotZero();
        assertThat(refused.err()).contains("conflicts with 1 item(s)").contains("actions/hello").contains("nothing was changed").contains("HTTP 409");
        assertThat(ok(PetrelCli.run("ns", "import", file.toString(), "--api", targetApi, "--auth", k2, "--on-conflict", "skip")).out())
                .contains("skipped 1");
        assertThat(send(targetApi, k2, "GET", "/api/v1/namespaces/_/actions/hello", null).body()).contains("mine");
        JsonNode report = json.readTree(ok(PetrelCli.run("ns", "import", file.toString(), "--api", targetApi, "--auth", k2, "--on-conflict",
                "OVERWRITE", "--json")).out());
        assertThat(report.path("overwritten").path("names").toString()).isEqualTo("[\"actions/hello\"]");
        assertThat(send(targetApi, k2, "GET", "/api/v1/namespaces/_/actions/hello", null).body()).contains("hi: p.name");

        // Into another namespace, without keys.
        createNamespace(targetApi, "acme-test");
        String k3 = ok(send(targetApi, "Bearer " + ADMIN, "POST", "/admin/v1/namespaces/acme-test/keys", "{\"role\":\"admin\"}".getBytes()))
                .path("auth").asText();
        assertThat(ok(PetrelCli.run("ns", "import", file.toString(), "--as", "acme-test", "--no-keys", "--api", targetApi, "--auth", k3)).out())
                .contains("into namespace acme-test").contains("created 7");

        // A broken file is refused here, before it is sent; a bad policy name and a missing file too.
        byte[] whole = Files.readAllBytes(file);
        Path broken = dir.resolve("broken.zip");
        Files.write(broken, Arrays.copyOf(whole, whole.length - 40));
        PetrelCli.Result bad = PetrelCli.run("ns", "import", broken.toString(), "--api", targetApi, "--auth", k2);
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("broken.zip is refused").contains("truncated");
        assertThat(PetrelCli.run("ns", "import", file.toString(), "--api", targetApi, "--auth", k2, "--on-conflict", "merge").err())
                .contains("--on-conflict must be one of");
        assertThat(PetrelCli.run("ns", "import", dir.resolve("nothing.zip").toString(), "--api", targetApi, "--auth", k2).err()).contains("cannot read");
        PetrelCli.Result wrongKey = PetrelCli.run("ns", "export", "acme", "--out", dir.resolve("x.zip").toString(), "--api", sourceApi, "--auth", k2);
        assertThat(wrongKey.code()).isNotZero();
        assertThat(wrongKey.err()).contains("the key was refused");
        assertThat(Files.exists(dir.resolve("x.zip"))).isFalse();
        assertThat(PetrelCli.run("ns", "export", "acme", "--out", dir.resolve("x.zip").toString(), "--api", sourceApi, "--auth", "nope").err())
                .contains("must look like UUID:KEY");
    }

    @Test
    void syncTwiceWithChangesInBetweenThenAfterTheCopyWasChanged() throws Exception {
        String k1 = createNamespace(sourceApi, "shop");
        String k2 = createNamespace(targetApi, "shop");
        populate(sourceApi, k1);

        PetrelCli.Result noKey = PetrelCli.run("ns", "sync", "shop", "--api", sourceApi, "--auth", k1, "--to", targetApi);
        assertThat(noKey.code()).isNotZero();
        assertThat(noKey.err()).contains("needs --to-auth");

        long t0 = System.nanoTime();
        PetrelCli.Result first = ok(PetrelCli.run("ns", "sync", "shop", "--api", sourceApi, "--auth", k1, "--to", targetApi, "--to-auth", k2));
        System.out.printf("MEASURED first petrel ns sync (full) in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(first.out()).contains("a full copy").contains("created 8").contains("kept keys/" + k2.substring(0, 36));
        assertThat(first.err()).contains("export shop: ").contains("import shop: ");

        put(sourceApi, k1, "/actions/new", action("function main() { return {n: 1} }"));
        put(sourceApi, k1, "/actions/hello?overwrite=true", action("function main() { return {changed: true} }"));
        ok(send(sourceApi, k1, "DELETE", "/api/v1/namespaces/_/rules/on-tick", null));
        ok(send(sourceApi, k1, "DELETE", "/api/v1/namespaces/_/artifacts/models/m.bin", null));

        long t1 = System.nanoTime();
        PetrelCli.Result second = ok(PetrelCli.run("ns", "sync", "shop", "--api", sourceApi, "--auth", k1, "--to", targetApi));
        System.out.printf("MEASURED second petrel ns sync (changes only) in %d ms%n", (System.nanoTime() - t1) / 1_000_000);
        assertThat(second.out()).contains("what changed since revision").contains("created 1, overwritten 2").contains("deleted 3");
        assertSameInBothRegions("shop", k1);

        // Someone changes the copy directly: the next sync finds it does not continue, and sends everything.
        ok(send(targetApi, k1, "DELETE", "/api/v1/namespaces/_/actions/lib/util", null));
        put(sourceApi, k1, "/triggers/tock", "{}");
        PetrelCli.Result third = ok(PetrelCli.run("ns", "sync", "shop", "--api", sourceApi, "--auth", k1, "--to", targetApi));
        assertThat(third.err()).contains("sending a full copy");
        assertThat(third.out()).contains("a full copy");
        assertSameInBothRegions("shop", k1);
    }

    /** The namespace's export is the same in both regions. */
    private void assertSameInBothRegions(String ns, String auth) throws Exception {
        Path a = dir.resolve(ns + "-source.zip");
        Path b = dir.resolve(ns + "-target.zip");
        ok(PetrelCli.run("ns", "export", ns, "--out", a.toString(), "--api", sourceApi, "--auth", auth));
        ok(PetrelCli.run("ns", "export", ns, "--out", b.toString(), "--api", targetApi, "--auth", auth));
        assertThat(content(b)).isEqualTo(content(a));
    }
}
