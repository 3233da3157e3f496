package io.petrel.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.transfer.ArchiveManifest;
import io.petrel.api.transfer.NamespaceArchive;
import io.petrel.store.KeyValue;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A tenant's export, import and sync over HTTP, between two regions that are each a real API over
 * a real three-replica store in this JVM: the content survives the round trip byte for byte, each
 * conflict policy does what it says, a sync twice with changes in between leaves the copy equal to
 * the source, a bad archive of any kind is refused with nothing changed, and artifacts of 20+ MB
 * stream through both ends without the heap holding them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NamespaceTransferTest {
    private static final String ADMIN = "transfer-test-admin-key-0123456789abcdef";
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private InProcessApi regionA;
    private InProcessApi regionB;

    @BeforeAll
    void start() throws Exception {
        OpenWhiskApi.Config a = new OpenWhiskApi.Config("a1", Optional.of(ADMIN), Duration.ofHours(1), Duration.ofSeconds(2));
        OpenWhiskApi.Config b = new OpenWhiskApi.Config("b1", Optional.of(ADMIN), Duration.ofHours(1), Duration.ofSeconds(2));
        regionA = InProcessApi.start("transfer-a", a, json);
        regionB = InProcessApi.start("transfer-b", b, json);
        for (InProcessApi r : List.of(regionA, regionB)) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> send(r, "Bearer " + ADMIN, "GET", "/admin/v1/namespaces", null, null)
                    .statusCode() == 200);
        }
    }

    @AfterAll
    void stop() throws Exception {
        regionA.close();
        regionB.close();
    }

    // ------------------------------------------------------------------------------------------- helpers

    private HttpResponse<byte[]> send(InProcessApi r, String auth, String method, String path, byte[] body, String type) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(r.base() + path)).timeout(Duration.ofSeconds(180))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        b.header("Authorization", auth.startsWith("Bearer ") ? auth : "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
        if (type != null) {
            b.header("Content-Type", type);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private JsonNode ok(HttpResponse<byte[]> r) throws IOException {
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isBetween(200, 201);
        return json.readTree(r.body());
    }

    private String createNamespace(InProcessApi r, String ns) throws Exception {
        return ok(send(r, "Bearer " + ADMIN, "POST", "/admin/v1/namespaces", ("{\"name\":\"" + ns + "\"}").getBytes(), "application/json"))
                .path("auth").asText();
    }

    private String createKey(InProcessApi r, String ns, String role) throws Exception {
        return ok(send(r, "Bearer " + ADMIN, "POST", "/admin/v1/namespaces/" + ns + "/keys", ("{\"role\":\"" + role + "\"}").getBytes(),
                "application/json")).path("auth").asText();
    }

    private void revokeKey(InProcessApi r, String ns, String auth) throws Exception {
        ok(send(r, "Bearer " + ADMIN, "DELETE", "/admin/v1/namespaces/" + ns + "/keys/" + uuid(auth), null, null));
    }

    private JsonNode put(InProcessApi r, String auth, String path, String body) throws Exception {
        return ok(send(r, auth, "PUT", "/api/v1/namespaces/_" + path, body.getBytes(StandardCharsets.UTF_8), "application/json"));
    }

    private void putArtifact(InProcessApi r, String auth, String name, byte[] data) throws Exception {
        ok(send(r, auth, "PUT", "/api/v1/namespaces/_/artifacts/" + name + "?overwrite=true", data, "application/x-test"));
    }

    private void delete(InProcessApi r, String auth, String path) throws Exception {
        ok(send(r, auth, "DELETE", "/api/v1/namespaces/_" + path, null, null));
    }

    private static String uuid(String auth) {
        return auth.substring(0, auth.indexOf(':'));
    }

    private static String action(String code) {
        return "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":" + quote(code) + "}}";
    }

    private static String quote(String s) {
        return new ObjectMapper().valueToTree(s).toString();
    }

    private byte[] export(InProcessApi r, String auth, String ns, String query) throws Exception {
        HttpResponse<byte[]> resp = send(r, auth, "GET", "/api/v1/namespaces/" + ns + "/export" + query, null, null);
        assertThat(resp.statusCode()).as(new String(resp.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        assertThat(resp.headers().firstValue("content-type")).contains("application/zip");
        return resp.body();
    }

    private HttpResponse<byte[]> importArchive(InProcessApi r, String auth, String ns, byte[] archive, String query) throws Exception {
        return send(r, auth, "POST", "/api/v1/namespaces/" + ns + "/import" + query, archive, NamespaceArchive.MEDIA_TYPE);
    }

    private ArchiveManifest manifest(byte[] archive) throws IOException {
        Path f = Files.createTempFile("transfer-test-", ".zip");
        try {
            Files.write(f, archive);
            return NamespaceArchive.verify(f, json);
        } finally {
            Files.delete(f);
        }
    }

    /** An archive's content: every entry's path, size and digest (what an export says, not when). */
    private static TreeSet<String> content(ArchiveManifest m, Predicate<String> keepPath) {
        TreeSet<String> out = new TreeSet<>();
        m.entries().stream().filter(e -> keepPath.test(e.path())).forEach(e -> out.add(e.path() + " " + e.size() + " " + e.sha256()));
        return out;
    }

    private static TreeSet<String> content(ArchiveManifest m) {
        return content(m, p -> true);
    }

    private static List<String> names(JsonNode report, String what) {
        List<String> out = new ArrayList<>();
        report.path(what).path("names").forEach(n -> out.add(n.asText()));
        return out;
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static List<KeyValue> scan(Store store, String prefix) {
        List<KeyValue> out = new ArrayList<>();
        ScanRequest req = ScanRequest.prefix(prefix, 1000);
        while (true) {
            ScanPage page = store.scan(req);
            out.addAll(page.items());
            if (!page.more()) {
                return out;
            }
            req = req.next(page);
        }
    }

    /** Every chunk's reference count, and the uploads and garbage records in flight. */
    private Map<String, String> blobState(InProcessApi r) {
        Map<String, String> out = new TreeMap<>();
        for (String prefix : List.of("blob/r/", "blob/u/", "blob/g/")) {
            scan(r.store(), prefix).forEach(kv -> out.put(kv.key(), prefix.equals("blob/r/") ? kv.valueAsString() : "record"));
        }
        return out;
    }

    /** The SHA-256 of each 1 MiB chunk the blob store cuts {@code data} into. */
    private static List<String> chunks(byte[] data) throws Exception {
        List<String> out = new ArrayList<>();
        for (int off = 0; off < data.length; off += 1024 * 1024) {
            out.add(sha256(Arrays.copyOfRange(data, off, Math.min(data.length, off + 1024 * 1024))));
        }
        return out;
    }

    /** How many references each chunk of {@code data} has in the region (0: the chunk is not stored). */
    private static List<Long> references(InProcessApi r, byte[] data) throws Exception {
        List<Long> out = new ArrayList<>();
        for (String sha : chunks(data)) {
            out.add(r.store().get("blob/r/" + sha).map(kv -> Long.parseLong(kv.valueAsString())).orElse(0L));
            assertThat(r.store().get("blob/c/" + sha).isPresent()).isEqualTo(out.getLast() > 0);
        }
        return out;
    }

    /** Waits until no upload or garbage record is left, i.e. every chunk's count is final. */
    private void awaitBlobsSettled(InProcessApi r) {
        await().atMost(Duration.ofSeconds(30)).until(() -> scan(r.store(), "blob/u/").isEmpty() && scan(r.store(), "blob/g/").isEmpty());
    }

    /** Code of about {@code bytes} bytes that is kept as a blob when above 512 KiB. */
    private static String bigCode(int bytes, char filler) {
        return "function main(p) { return {size: " + bytes + "} }\n// " + String.valueOf(filler).repeat(bytes);
    }

    /**
     * A namespace with something of every kind: a policy, a package with an action, a binding, small
     * and blob-sized code, a sequence, a trigger with an active rule, a reader key, and artifacts.
     */
    private void populate(InProcessApi r, String auth, String ns, byte[] model, char filler) throws Exception {
        put(r, auth, "/policy", "{\"allowedKinds\":[\"nodejs:20\",\"python:3.11\"],\"packageReaders\":[\"*\"]}");
        put(r, auth, "/packages/lib", "{\"publish\":true,\"parameters\":[{\"key\":\"region\",\"value\":\"eu\"}]}");
        put(r, auth, "/actions/lib/util", action("function main(p) { return {util: true} }"));
        put(r, auth, "/packages/bound", "{\"binding\":{\"namespace\":\"" + ns + "\",\"name\":\"lib\"}}");
        put(r, auth, "/actions/hello", action("function main(p) { return {hi: p.name} }"));
        put(r, auth, "/actions/py", "{\"exec\":{\"kind\":\"python:3.11\",\"code\":\"def main(args):\\n    return args\"},"
                + "\"annotations\":[{\"key\":\"owner\",\"value\":\"ml\"}],\"limits\":{\"timeout\":5000}}");
        put(r, auth, "/actions/big", action(bigCode(1_300_000, filler)));
        put(r, auth, "/actions/seq", "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"hello\",\"lib/util\"]}}");
        put(r, auth, "/triggers/tick", "{\"parameters\":[{\"key\":\"every\",\"value\":\"1m\"}]}");
        put(r, auth, "/rules/on-tick", "{\"trigger\":\"tick\",\"action\":\"hello\"}");
        putArtifact(r, auth, "models/v1.bin", model);
        putArtifact(r, auth, "data/small.csv", "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));
    }

    // ------------------------------------------------------------------------------------------- tests

    @Test
    void exportImportIntoAnotherRegionAndExportAgainGiveTheSameContent() throws Exception {
        String k1 = createNamespace(regionA, "acme");
        String reader = createKey(regionA, "acme", "reader");
        byte[] model = random(3 * 1024 * 1024 + 17, 1);
        populate(regionA, k1, "acme", model, 'x');

        long t0 = System.nanoTime();
        byte[] first = export(regionA, k1, "acme", "");
        long exportMs = (System.nanoTime() - t0) / 1_000_000;
        ArchiveManifest m1 = manifest(first);
        assertThat(m1.namespace()).isEqualTo("acme");
        assertThat(m1.since()).isEmpty();
        assertThat(m1.entries().getFirst().path()).isEqualTo("policy.json");
        assertThat(m1.counts()).containsEntry("policy", 1).containsEntry("packages", 2).containsEntry("actions", 5).containsEntry("triggers", 1)
                .containsEntry("rules", 1).containsEntry("keys", 2).containsEntry("artifacts", 2);
        assertThat(m1.present().of(NamespaceArchive.Kind.KEY)).containsExactlyInAnyOrder(uuid(k1), uuid(reader));
        // A reader key may export; an invoker key, or another tenant's key, may not.
        assertThat(manifest(export(regionA, reader, "acme", "")).entries()).hasSize(m1.entries().size());
        String invoker = createKey(regionA, "acme", "invoker");
        assertThat(send(regionA, invoker, "GET", "/api/v1/namespaces/acme/export", null, null).statusCode()).isEqualTo(403);
        String other = createNamespace(regionA, "not-acme");
        assertThat(send(regionA, other, "GET", "/api/v1/namespaces/acme/export", null, null).statusCode()).isEqualTo(403);
        revokeKey(regionA, "acme", invoker);

        String k2 = createNamespace(regionB, "acme");
        String developer = createKey(regionB, "acme", "developer");
        HttpResponse<byte[]> refused = importArchive(regionB, developer, "acme", first, "");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(json.readTree(refused.body()).path("error").asText()).contains("admin key");
        revokeKey(regionB, "acme", developer);

        long t1 = System.nanoTime();
        JsonNode report = ok(importArchive(regionB, k2, "acme", first, "?onConflict=fail"));
        long importMs = (System.nanoTime() - t1) / 1_000_000;
        System.out.printf("MEASURED export of %d entries (%.1f MB archive) in %d ms, import into another region in %d ms%n", m1.entries().size(),
                first.length / 1e6, exportMs, importMs);
        assertThat(report.path("created").path("count").asInt()).isEqualTo(14);
        assertThat(report.path("overwritten").path("count").asInt()).isZero();
        assertThat(report.path("deleted").path("count").asInt()).isZero();

        ArchiveManifest m2 = manifest(export(regionB, k2, "acme", ""));
        // The target's own key (made with its namespace) is the one difference: an import adds, it does not take away.
        assertThat(content(m2, p -> !p.equals("keys/" + uuid(k2) + ".json"))).isEqualTo(content(m1));
        assertThat(content(m2)).hasSize(content(m1).size() + 1);
        assertThat(m2.revision()).isNotEqualTo(m1.revision());

        // The copy works in the other region, with the source's own keys.
        JsonNode big = ok(send(regionB, k1, "GET", "/api/v1/namespaces/_/actions/big", null, null));
        assertThat(big.path("exec").path("code").asText()).isEqualTo(bigCode(1_300_000, 'x'));
        assertThat(ok(send(regionB, k1, "GET", "/api/v1/namespaces/_/rules/on-tick", null, null)).path("status").asText()).isEqualTo("active");
        assertThat(sha256(send(regionB, reader, "GET", "/api/v1/namespaces/_/artifacts/models/v1.bin", null, null).body())).isEqualTo(sha256(model));
        assertThat(send(regionB, reader, "PUT", "/api/v1/namespaces/_/actions/nope", action("x").getBytes(), "application/json").statusCode())
                .isEqualTo(403);
        assertThat(ok(send(regionB, k2, "GET", "/api/v1/namespaces/_/policy", null, null)).path("allowedKinds").toString())
                .isEqualTo("[\"nodejs:20\",\"python:3.11\"]");
        // Every chunk the import wrote is counted once per manifest that holds it: no upload or garbage left over.
        awaitBlobsSettled(regionB);
        byte[] bigBytes = bigCode(1_300_000, 'x').getBytes(StandardCharsets.UTF_8);
        assertThat(references(regionB, model)).containsOnly(1L).hasSize(4);
        assertThat(references(regionB, bigBytes)).containsOnly(1L).hasSize(2);

        // Imported as another namespace of the same region: every reference to the source moves along; keys stay where they are.
        createNamespace(regionB, "acme-copy");
        String copyKey = createKey(regionB, "acme-copy", "admin");
        JsonNode copied = ok(importArchive(regionB, copyKey, "acme-copy", first, "?keys=false"));
        assertThat(copied.path("created").path("count").asInt()).isEqualTo(12);
        assertThat(ok(send(regionB, copyKey, "GET", "/api/v1/namespaces/_/actions/seq", null, null)).path("exec").path("components").toString())
                .isEqualTo("[\"/acme-copy/hello\",\"/acme-copy/lib/util\"]");
        assertThat(ok(send(regionB, copyKey, "GET", "/api/v1/namespaces/_/packages/bound", null, null)).path("binding").path("namespace").asText())
                .isEqualTo("acme-copy");
        assertThat(ok(send(regionB, copyKey, "GET", "/api/v1/namespaces/_/rules/on-tick", null, null)).path("status").asText()).isEqualTo("active");
        assertThat(ok(send(regionB, copyKey, "GET", "/api/v1/namespaces/_/actions/lib/util", null, null)).path("namespace").asText())
                .isEqualTo("acme-copy/lib");
        // Equal bytes in two namespaces are stored once, counted twice.
        awaitBlobsSettled(regionB);
        assertThat(references(regionB, model)).containsOnly(2L);
        assertThat(references(regionB, bigBytes)).containsOnly(2L);
    }

    @Test
    void importIntoANamespaceWithConflictsFollowsTheChosenPolicy() throws Exception {
        String src = createNamespace(regionA, "conf-src");
        put(regionA, src, "/actions/hello", action("function main() { return {v: 1} }"));
        put(regionA, src, "/actions/hi2", action("function main() { return {v: 2} }"));
        put(regionA, src, "/triggers/tick", "{}");
        putArtifact(regionA, src, "blob.bin", random(1_500_000, 2));
        byte[] archive = export(regionA, src, "conf-src", "");
        ArchiveManifest source = manifest(archive);
        assertThat(source.counts()).containsEntry("actions", 2).containsEntry("triggers", 1).containsEntry("artifacts", 1).containsEntry("keys", 1);

        String dst = createNamespace(regionB, "conf-dst");
        ok(importArchive(regionB, dst, "conf-dst", archive, ""));
        TreeSet<String> imported = content(manifest(export(regionB, dst, "conf-dst", "")));
        // The target goes its own way: a changed action, a deleted trigger, an extra action, and a trigger where the archive has an action.
        put(regionB, dst, "/actions/hello?overwrite=true", action("function main() { return {v: 'changed'} }"));
        delete(regionB, dst, "/triggers/tick");
        put(regionB, dst, "/actions/extra", action("function main() { return {} }"));
        delete(regionB, dst, "/actions/hi2");
        put(regionB, dst, "/triggers/hi2", "{}");
        awaitBlobsSettled(regionB);
        TreeSet<String> before = content(manifest(export(regionB, dst, "conf-dst", "")));
        Map<String, String> blobsBefore = blobState(regionB);

        HttpResponse<byte[]> fail = importArchive(regionB, dst, "conf-dst", archive, "?onConflict=fail");
        assertThat(fail.statusCode()).isEqualTo(409);
        assertThat(json.readTree(fail.body()).path("error").asText()).contains("actions/hello").contains("actions/hi2 (a trigger has that name)")
                .contains("nothing was changed");
        assertThat(json.readTree(fail.body()).path("code").asText()).isNotBlank();
        // The default is fail, and a dry run of it is refused the same way.
        assertThat(importArchive(regionB, dst, "conf-dst", archive, "").statusCode()).isEqualTo(409);
        assertThat(importArchive(regionB, dst, "conf-dst", archive, "?dryRun=true").statusCode()).isEqualTo(409);

        for (String policy : List.of("skip", "overwrite", "replace")) {
            JsonNode dry = ok(importArchive(regionB, dst, "conf-dst", archive, "?onConflict=" + policy + "&dryRun=true"));
            assertThat(dry.path("dryRun").asBoolean()).isTrue();
            assertThat(content(manifest(export(regionB, dst, "conf-dst", "")))).as("a dry run of " + policy + " changes nothing").isEqualTo(before);
            assertThat(blobState(regionB)).isEqualTo(blobsBefore);
        }
        JsonNode dryReplace = ok(importArchive(regionB, dst, "conf-dst", archive, "?onConflict=replace&dryRun=true"));
        assertThat(names(dryReplace, "deleted")).containsExactlyInAnyOrder("actions/extra", "triggers/hi2");
        assertThat(names(dryReplace, "kept")).containsExactly("keys/" + uuid(dst));

        JsonNode skip = ok(importArchive(regionB, dst, "conf-dst", archive, "?onConflict=skip"));
        assertThat(names(skip, "skipped")).containsExactlyInAnyOrder("actions/hello", "actions/hi2");
        assertThat(names(skip, "created")).containsExactly("triggers/tick");
        assertThat(skip.path("unchanged").path("count").asInt()).isEqualTo(2); // the artifact and the source's key
        assertThat(ok(send(regionB, dst, "GET", "/api/v1/namespaces/_/actions/hello", null, null)).path("exec").path("code").asText())
                .contains("changed");

        JsonNode overwrite = ok(importArchive(regionB, dst, "conf-dst", archive, "?onConflict=overwrite"));
        assertThat(names(overwrite, "overwritten")).containsExactly("actions/hello");
        assertThat(names(overwrite, "created")).containsExactly("actions/hi2");
        assertThat(names(overwrite, "deleted")).containsExactly("triggers/hi2");
        assertThat(ok(send(regionB, dst, "GET", "/api/v1/namespaces/_/actions/hello", null, null)).path("exec").path("code").asText())
                .contains("v: 1");
        assertThat(send(regionB, dst, "GET", "/api/v1/namespaces/_/actions/extra", null, null).statusCode()).isEqualTo(200);

        JsonNode replace = ok(importArchive(regionB, dst, "conf-dst", archive, "?onConflict=replace"));
        assertThat(names(replace, "deleted")).containsExactly("actions/extra");
        assertThat(names(replace, "kept")).containsExactly("keys/" + uuid(dst));
        assertThat(replace.path("created").path("count").asInt() + replace.path("overwritten").path("count").asInt()).isZero();
        assertThat(content(manifest(export(regionB, dst, "conf-dst", "")))).isEqualTo(imported);
        assertThat(imported).hasSize(content(source).size() + 1);
        awaitBlobsSettled(regionB);
    }

    @Test
    void syncTwiceWithChangesInBetweenLeavesTheCopyEqualToTheSource() throws Exception {
        String k1 = createNamespace(regionA, "syncme");
        String reader = createKey(regionA, "syncme", "reader");
        byte[] model = random(2 * 1024 * 1024 + 5, 3);
        populate(regionA, k1, "syncme", model, 's');
        String k2 = createNamespace(regionB, "syncme");
        assertThat(send(regionB, k2, "GET", "/api/v1/namespaces/syncme/sync", null, null).statusCode()).isEqualTo(404);

        // The first sync is a full copy, imported with replace; the target then records where its copy stands.
        byte[] full = export(regionA, k1, "syncme", "");
        ArchiveManifest fullManifest = manifest(full);
        JsonNode first = ok(importArchive(regionB, k2, "syncme", full, "?onConflict=replace"));
        assertThat(names(first, "kept")).containsExactly("keys/" + uuid(k2));
        JsonNode position = ok(send(regionB, k2, "GET", "/api/v1/namespaces/syncme/sync", null, null));
        assertThat(position.path("revision").asLong()).isEqualTo(fullManifest.revision());
        assertThat(position.path("sourceId").asText()).isEqualTo(fullManifest.source().id());

        // Creates, updates and deletes of every kind at the source.
        put(regionA, k1, "/actions/new1", action("function main() { return {fresh: true} }"));
        put(regionA, k1, "/actions/hello?overwrite=true", action("function main(p) { return {hello: 'again'} }"));
        put(regionA, k1, "/actions/big?overwrite=true", action(bigCode(1_300_000, 'y')));
        delete(regionA, k1, "/rules/on-tick");
        delete(regionA, k1, "/actions/lib/util");
        byte[] model2 = random(2 * 1024 * 1024 + 9, 4);
        putArtifact(regionA, k1, "models/v1.bin", model2);
        delete(regionA, k1, "/artifacts/data/small.csv");
        put(regionA, k1, "/policy", "{\"storeActivations\":false}");
        String newKey = createKey(regionA, "syncme", "developer");
        revokeKey(regionA, "syncme", reader);

        // The second sync: only what changed since the recorded revision, plus the names still present, with the source's key.
        long t0 = System.nanoTime();
        byte[] changes = export(regionA, k1, "syncme", "?since=" + position.path("revision").asLong() + "&from=" + position.path("sourceId").asText());
        ArchiveManifest delta = manifest(changes);
        assertThat(delta.since()).hasValue(position.path("revision").asLong());
        assertThat(delta.entries()).extracting(e -> e.path()).contains("actions/new1.json", "actions/hello.json", "actions/big.json",
                        "actions-code/big", "artifacts/models/v1.bin.json", "policy.json", "keys/" + uuid(newKey) + ".json", "triggers/tick.json")
                .doesNotContain("actions/py.json", "actions/seq.json", "packages/lib.json", "keys/" + uuid(k1) + ".json");
        assertThat(delta.present().of(NamespaceArchive.Kind.ACTION)).contains("py", "seq").doesNotContain("lib/util");
        // An incremental archive only goes, with replace, into the copy it continues.
        assertThat(importArchive(regionB, k1, "syncme", changes, "?onConflict=overwrite").statusCode()).isEqualTo(400);
        createNamespace(regionB, "not-a-copy");
        String notCopyKey = createKey(regionB, "not-a-copy", "admin");
        HttpResponse<byte[]> gap = importArchive(regionB, notCopyKey, "not-a-copy", changes, "?onConflict=replace&keys=false");
        assertThat(gap.statusCode()).isEqualTo(409);
        assertThat(json.readTree(gap.body()).path("error").asText()).contains("not the copy");

        JsonNode second = ok(importArchive(regionB, k1, "syncme", changes, "?onConflict=replace"));
        System.out.printf("MEASURED incremental sync of %d changed entries (%.1f MB) in %d ms%n", delta.entries().size(), changes.length / 1e6,
                (System.nanoTime() - t0) / 1_000_000);
        assertThat(names(second, "deleted")).containsExactlyInAnyOrder("rules/on-tick", "actions/lib/util", "artifacts/data/small.csv",
                "keys/" + uuid(reader), "keys/" + uuid(k2));
        assertThat(names(second, "created")).contains("actions/new1", "keys/" + uuid(newKey));

        ArchiveManifest sourceNow = manifest(export(regionA, k1, "syncme", ""));
        ArchiveManifest copyNow = manifest(export(regionB, k1, "syncme", ""));
        assertThat(content(copyNow)).isEqualTo(content(sourceNow));
        assertThat(send(regionB, reader, "GET", "/api/v1/namespaces/_/actions", null, null).statusCode()).isEqualTo(401);
        assertThat(sha256(send(regionB, newKey, "GET", "/api/v1/namespaces/_/artifacts/models/v1.bin", null, null).body())).isEqualTo(sha256(model2));
        assertThat(ok(send(regionB, k1, "GET", "/api/v1/namespaces/_/actions/big", null, null)).path("exec").path("code").asText())
                .isEqualTo(bigCode(1_300_000, 'y'));
        // The replaced artifact's and code's chunks are given back in the copy too; the new ones are counted once.
        awaitBlobsSettled(regionB);
        assertThat(references(regionB, model)).containsOnly(0L);
        assertThat(references(regionB, bigCode(1_300_000, 's').getBytes(StandardCharsets.UTF_8))).containsOnly(0L);
        assertThat(references(regionB, model2)).containsOnly(1L);
        assertThat(references(regionB, bigCode(1_300_000, 'y').getBytes(StandardCharsets.UTF_8))).containsOnly(1L);

        // Nothing changed since: the next sync carries nothing but the names.
        JsonNode p2 = ok(send(regionB, k1, "GET", "/api/v1/namespaces/syncme/sync", null, null));
        byte[] nothing = export(regionA, k1, "syncme", "?since=" + p2.path("revision").asLong() + "&from=" + p2.path("sourceId").asText());
        assertThat(manifest(nothing).entries()).isEmpty();
        JsonNode third = ok(importArchive(regionB, k1, "syncme", nothing, "?onConflict=replace"));
        assertThat(third.path("created").path("count").asInt() + third.path("overwritten").path("count").asInt()
                + third.path("deleted").path("count").asInt()).isZero();
        // An item of the copy edited there: a delta would leave it different from the source's, so it is refused, and a full archive mends it.
        put(regionB, k1, "/actions/py?overwrite=true", "{\"exec\":{\"kind\":\"python:3.11\",\"code\":\"def main(a):\\n    return {}\"}}");
        JsonNode p3 = ok(send(regionB, k1, "GET", "/api/v1/namespaces/syncme/sync", null, null));
        byte[] stillNothing = export(regionA, k1, "syncme", "?since=" + p3.path("revision").asLong() + "&from=" + p3.path("sourceId").asText());
        HttpResponse<byte[]> drifted = importArchive(regionB, k1, "syncme", stillNothing, "?onConflict=replace");
        assertThat(drifted.statusCode()).isEqualTo(409);
        assertThat(json.readTree(drifted.body()).path("error").asText()).contains("was changed since it was synced").contains("actions/py");
        assertThat(names(ok(importArchive(regionB, k1, "syncme", export(regionA, k1, "syncme", ""), "?onConflict=replace")), "overwritten"))
                .containsExactly("actions/py");
        assertThat(content(manifest(export(regionB, k1, "syncme", "")))).isEqualTo(content(manifest(export(regionA, k1, "syncme", ""))));
        // A sync position from another source gives a full archive instead of a wrong delta.
        assertThat(manifest(export(regionA, k1, "syncme", "?since=" + p2.path("revision").asLong() + "&from=0123456789abcdef0123456789abcdef"))
                .since()).isEmpty();
        assertThat(send(regionA, k1, "GET", "/api/v1/namespaces/syncme/export?since=999999999", null, null).statusCode()).isEqualTo(400);
        // The position goes with the namespace.
        ok(send(regionB, "Bearer " + ADMIN, "DELETE", "/admin/v1/namespaces/syncme", null, null));
        assertThat(regionB.store().get("sync/syncme")).isEmpty();
    }

    @Test
    void aMalformedTruncatedTamperedOrForeignArchiveIsRefusedWithNothingChanged() throws Exception {
        String src = createNamespace(regionA, "bad-src");
        put(regionA, src, "/actions/hello", action("function main() { return {} }"));
        put(regionA, src, "/triggers/tick", "{}");
        putArtifact(regionA, src, "data.bin", random(2 * 1024 * 1024, 5));
        byte[] good = export(regionA, src, "bad-src", "");
        String dst = createNamespace(regionB, "bad-dst");
        put(regionB, dst, "/actions/mine", action("function main() { return {mine: true} }"));
        awaitBlobsSettled(regionB);
        TreeSet<String> before = content(manifest(export(regionB, dst, "bad-dst", "")));
        Map<String, String> blobsBefore = blobState(regionB);

        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("random bytes", random(10_000, 6));
        bad.put("an empty body", new byte[0]);
        bad.put("a zip of something else", zip(Map.of("hello.txt", "hello".getBytes())));
        bad.put("a zip with someone else's manifest.json", zip(Map.of("manifest.json", "{\"format\":\"other-tool\",\"version\":3}".getBytes())));
        bad.put("the manifest not first", zip(new TreeMap<>(Map.of("a.txt", "x".getBytes(), "manifest.json", manifestBytes(good)))));
        bad.put("truncated in the middle", Arrays.copyOf(good, good.length / 2));
        bad.put("truncated by its last 10 bytes", Arrays.copyOf(good, good.length - 10));
        bad.put("a byte changed in the artifact's data", flip(good, good.length / 2));
        bad.put("a byte changed in the manifest", flip(good, 80));
        bad.put("a byte changed in the zip directory", flip(good, good.length - 12));
        bad.put("an action of an unknown kind, checksums right", rewrite(good, "actions/hello.json",
                doc -> ((ObjectNode) doc.get("exec")).put("kind", "cobol:1")));
        bad.put("an action named for another namespace, checksums right", rewrite(good, "actions/hello.json",
                doc -> doc.put("namespace", "someone-else")));
        bad.put("an entry the manifest does not list", appendEntry(good, "extra.txt", "surprise".getBytes()));

        for (Map.Entry<String, byte[]> c : bad.entrySet()) {
            HttpResponse<byte[]> r = importArchive(regionB, dst, "bad-dst", c.getValue(), "?onConflict=overwrite");
            String error = json.readTree(r.body()).path("error").asText();
            System.out.printf("refused %s: %d %s%n", c.getKey(), r.statusCode(), error);
            assertThat(r.statusCode()).as(c.getKey()).isEqualTo(400);
            assertThat(error).as(c.getKey()).startsWith("The archive was refused, and nothing was changed: ");
            assertThat(content(manifest(export(regionB, dst, "bad-dst", "")))).as(c.getKey()).isEqualTo(before);
            assertThat(blobState(regionB)).as(c.getKey()).isEqualTo(blobsBefore);
        }
        assertThat(json.readTree(importArchive(regionB, dst, "bad-dst", bad.get("a zip of something else"), "").body()).path("error").asText())
                .contains("not a Petrel namespace archive").contains("hello.txt");
        assertThat(json.readTree(importArchive(regionB, dst, "bad-dst", bad.get("an action of an unknown kind, checksums right"), "").body())
                .path("error").asText()).contains("actions/hello").contains("cobol:1");
        // The same archive unchanged goes in.
        assertThat(importArchive(regionB, dst, "bad-dst", good, "").statusCode()).isEqualTo(200);
        assertThat(importArchive(regionB, dst, "nobody-here", good, "").statusCode()).isEqualTo(403);
    }

    @Test
    void artifactsOfTwentyMegabytesAndMoreStreamWithoutTheHeapHoldingThemAndTheZoneNeverFallsSilent() throws Exception {
        int size = 24 * 1024 * 1024;
        String src = createNamespace(regionA, "large");
        String dst = createNamespace(regionB, "large");
        for (InProcessApi r : List.of(regionA, regionB)) {
            ok(send(r, "Bearer " + ADMIN, "PUT", "/admin/v1/namespaces/large/limits", "{\"artifactQuotaBytes\":209715200}".getBytes(), "application/json"));
        }
        List<String> shas = new ArrayList<>();
        long baseline = liveHeap();
        HeapPeak uploadPeak = HeapPeak.start();
        for (int i = 0; i < 2; i++) {
            shas.add(uploadGenerated(regionA, src, "weights/part-" + i + ".bin", size, 10 + i));
        }
        // What the store itself holds while it takes 48 MB of writes (its log cache), with the API's own streamed uploads.
        long uploadHeap = uploadPeak.stop() - baseline;
        Path file = Files.createTempFile("transfer-large-", ".zip");
        try {
            baseline = liveHeap();
            HeapPeak exportPeak = HeapPeak.start();
            RawAnswer exported = raw(regionA, "GET", "/api/v1/namespaces/large/export", src, null, file);
            long exportHeap = exportPeak.stop() - baseline;
            assertThat(exported.status()).isEqualTo(200);
            long archiveBytes = Files.size(file);
            assertThat(archiveBytes).isGreaterThan(2L * size);
            assertThat(manifest(file).counts()).containsEntry("artifacts", 2);

            baseline = liveHeap();
            HeapPeak importPeak = HeapPeak.start();
            RawAnswer imported = raw(regionB, "POST", "/api/v1/namespaces/large/import", dst, file, null);
            long importHeap = importPeak.stop() - baseline;
            assertThat(imported.status()).as(new String(imported.body(), StandardCharsets.UTF_8)).isEqualTo(200);
            System.out.printf("MEASURED 2 artifacts of %d MB: export %.1f MB in %d ms (%.1f MB/s), live heap +%d MB at most, %d interim answers,"
                            + " longest silence %d ms; import in %d ms (%.1f MB/s), live heap +%d MB at most (an upload of them through the API:"
                            + " +%d MB), %d interim answers, longest silence %d ms%n", size >> 20, archiveBytes / 1e6, exported.millis(),
                    archiveBytes / 1e3 / exported.millis(), exportHeap >> 20, exported.interims(), exported.longestSilenceMillis(), imported.millis(),
                    archiveBytes / 1e3 / imported.millis(), importHeap >> 20, uploadHeap >> 20, imported.interims(), imported.longestSilenceMillis());
            // The export only reads: it never held a whole artifact (live-heap readings in a JVM running three voters move by
            // megabytes from run to run, so the bound is one artifact, not a fraction of one: holding both would still fail).
            assertThat(exportHeap).isLessThan(size);
            // The import writes what an upload writes; beyond what the store holds for such writes, it never held a whole artifact either.
            assertThat(importHeap).isLessThan(Math.max(uploadHeap, 0) + size);
            // Both took seconds without an answer to give; the zone still spoke every 2 s, well inside the gateway's 10 s attempt timeout.
            assertThat(exported.longestSilenceMillis()).isLessThan(3_000);
            assertThat(imported.longestSilenceMillis()).isLessThan(3_000);
            for (int i = 0; i < 2; i++) {
                HttpResponse<InputStream> down = http.send(HttpRequest.newBuilder(URI.create(regionB.base()
                        + "/api/v1/namespaces/_/artifacts/weights/part-" + i + ".bin")).header("Authorization", basic(src)).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertThat(sha256(down.body())).isEqualTo(shas.get(i));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private ArchiveManifest manifest(Path file) throws IOException {
        return NamespaceArchive.verify(file, json);
    }

    /** A final answer, how many interim answers came before it, and the longest the server said nothing once the request was sent. */
    private record RawAnswer(int status, byte[] body, int interims, long longestSilenceMillis, long millis) {
    }

    /**
     * One HTTP/1.1 exchange over a plain socket, so that interim answers and silences can be seen:
     * {@code upload} is sent as the body, the final answer's body is saved to {@code saveTo} if given.
     */
    private RawAnswer raw(InProcessApi r, String method, String path, String auth, Path upload, Path saveTo) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", r.port())) {
            socket.setSoTimeout(180_000);
            java.io.OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            long length = upload == null ? 0 : Files.size(upload);
            out.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + basic(auth) + "\r\nContent-Type: "
                    + NamespaceArchive.MEDIA_TYPE + "\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            if (upload != null) {
                Files.copy(upload, out);
            }
            out.flush();
            TimedInput timed = new TimedInput(socket.getInputStream());
            java.io.BufferedInputStream in = new java.io.BufferedInputStream(timed, 64 * 1024);
            int interims = 0;
            while (true) {
                String statusLine = line(in);
                int status = Integer.parseInt(statusLine.split(" ")[1]);
                long contentLength = 0;
                for (String h; !(h = line(in)).isEmpty(); ) {
                    if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        contentLength = Long.parseLong(h.substring(15).trim());
                    }
                }
                if (status >= 100 && status < 200) {
                    interims++;
                    continue;
                }
                InputStream body = in;
                byte[] small = new byte[0];
                if (saveTo != null && status == 200) {
                    try (java.io.OutputStream f = Files.newOutputStream(saveTo)) {
                        copyExactly(body, f, contentLength);
                    }
                } else {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    copyExactly(body, b, contentLength);
                    small = b.toByteArray();
                }
                return new RawAnswer(status, small, interims, timed.longestSilenceMillis(), (System.nanoTime() - t0) / 1_000_000);
            }
        }
    }

    private static void copyExactly(InputStream in, java.io.OutputStream out, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new IOException("the answer ended " + n + " bytes early");
            }
            out.write(buf, 0, r);
            n -= r;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("the connection ended inside a header");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /** Notes when bytes arrive, to find the longest wait for any. */
    private static final class TimedInput extends java.io.FilterInputStream {
        private long last = System.nanoTime();
        private long longest;

        TimedInput(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            long now = System.nanoTime();
            longest = Math.max(longest, now - last);
            last = now;
            return n;
        }

        long longestSilenceMillis() {
            return longest / 1_000_000;
        }
    }

    // ------------------------------------------------------------------------------------------- archives made by hand

    private static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static byte[] flip(byte[] archive, int at) {
        byte[] out = archive.clone();
        out[at] ^= 0x5a;
        return out;
    }

    private static byte[] manifestBytes(byte[] archive) throws IOException {
        try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(archive))) {
            z.getNextEntry();
            return z.readAllBytes();
        }
    }

    /** Every entry of an archive, in order. */
    private static List<Map.Entry<String, byte[]>> entries(byte[] archive) throws IOException {
        List<Map.Entry<String, byte[]>> out = new ArrayList<>();
        try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(archive))) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                out.add(Map.entry(e.getName(), z.readAllBytes()));
            }
        }
        return out;
    }

    private static byte[] write(List<Map.Entry<String, byte[]>> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** The archive with one document changed and the manifest's size and digest of it made to match: only the content is wrong. */
    private byte[] rewrite(byte[] archive, String path, java.util.function.Consumer<ObjectNode> change) throws Exception {
        List<Map.Entry<String, byte[]>> all = new ArrayList<>(entries(archive));
        ObjectNode manifest = (ObjectNode) json.readTree(all.getFirst().getValue());
        for (int i = 1; i < all.size(); i++) {
            if (all.get(i).getKey().equals(path)) {
                ObjectNode doc = (ObjectNode) json.readTree(all.get(i).getValue());
                change.accept(doc);
                byte[] bytes = json.writeValueAsBytes(doc);
                all.set(i, Map.entry(path, bytes));
                for (JsonNode e : manifest.path("entries")) {
                    if (e.path("path").asText().equals(path)) {
                        ((ObjectNode) e).put("size", bytes.length).put("sha256", sha256(bytes));
                    }
                }
            }
        }
        all.set(0, Map.entry("manifest.json", json.writeValueAsBytes(manifest)));
        return write(all);
    }

    private static byte[] appendEntry(byte[] archive, String name, byte[] data) throws IOException {
        List<Map.Entry<String, byte[]>> all = new ArrayList<>(entries(archive));
        all.add(Map.entry(name, data));
        return write(all);
    }

    // ------------------------------------------------------------------------------------------- large data, measured

    private static String basic(String auth) {
        return "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
    }

    /** Uploads {@code size} generated bytes, streamed (never in the heap whole); returns their SHA-256. */
    private String uploadGenerated(InProcessApi r, String auth, String name, int size, long seed) throws Exception {
        HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(r.base() + "/api/v1/namespaces/_/artifacts/" + name))
                .header("Authorization", basic(auth)).header("Content-Type", "application/octet-stream").timeout(Duration.ofMinutes(3))
                .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> generated(size, seed)), size)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        return sha256(generated(size, seed));
    }

    private static InputStream generated(long size, long seed) {
        return new InputStream() {
            private final Random random = new Random(seed);
            private long left = size;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                byte[] chunk = new byte[n];
                random.nextBytes(chunk);
                System.arraycopy(chunk, 0, b, off, n);
                left -= n;
                return n;
            }
        };
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The heap in use after a full collection: what is live, not what is garbage yet. */
    private static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Samples the live heap every 200 ms while a transfer runs; {@link #stop()} gives the highest sample. */
    private static final class HeapPeak {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong peak = new AtomicLong();
        private Thread thread;

        static HeapPeak start() {
            HeapPeak p = new HeapPeak();
            p.thread = Thread.ofPlatform().daemon().name("heap-peak").start(() -> {
                while (p.running.get()) {
                    p.peak.accumulateAndGet(liveHeap(), Math::max);
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            return p;
        }

        long stop() throws InterruptedException {
            running.set(false);
            thread.join();
            return peak.get();
        }
    }
}
