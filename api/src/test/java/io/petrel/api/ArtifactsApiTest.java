package io.petrel.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.blob.BlobStore;
import io.petrel.store.ScanRequest;
import io.petrel.store.ratis.RatisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Artifacts over HTTP against a real three-replica store: bytes in and out unchanged and streamed,
 * overwrite rules, listing, the quota, shared chunks, and no chunk left behind by deletes, replaced
 * artifacts, refused uploads or clients that vanish mid-upload.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ArtifactsApiTest {
    private static final String ADMIN = "artifacts-test-admin-key-0123456789abcdef";
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private InProcessApi zone;
    private RatisStore store;
    private int port;
    private String base;
    private String alice;
    private String bob;

    @BeforeAll
    void start() throws Exception {
        zone = InProcessApi.start("artifacts", new OpenWhiskApi.Config("z0", Optional.of(ADMIN), Duration.ofHours(1), Duration.ofSeconds(2)),
                json);
        store = zone.store();
        port = zone.port();
        base = zone.base();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> admin("POST", "", "{\"name\":\"alice\"}").statusCode() == 201);
        alice = json.readTree(admin("POST", "/alice/keys", null).body()).path("auth").asText();
        bob = json.readTree(admin("POST", "", "{\"name\":\"bob\"}").body()).path("auth").asText();
    }

    @AfterAll
    void stop() throws Exception {
        zone.close();
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/namespaces" + path))
                .header("Authorization", "Bearer " + ADMIN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String auth, String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces" + path)).timeout(Duration.ofSeconds(120));
        if (auth != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
        }
        return b;
    }

    private HttpResponse<String> put(String auth, String path, byte[] data, String type) throws Exception {
        return http.send(request(auth, path).header("Content-Type", type).PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> call(String auth, String method, String path) throws Exception {
        return http.send(request(auth, path).method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<byte[]> download(String auth, String path) throws Exception {
        return http.send(request(auth, path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static List<String> chunkShas(byte[] data) throws Exception {
        List<String> out = new ArrayList<>();
        for (int off = 0; off < data.length; off += BlobStore.CHUNK_BYTES) {
            out.add(sha256(Arrays.copyOfRange(data, off, Math.min(data.length, off + BlobStore.CHUNK_BYTES))));
        }
        return out;
    }

    private boolean chunkStored(String sha) {
        return store.get("blob/c/" + sha).isPresent();
    }

    private long usage(String ns) {
        return store.get("artusage/" + ns).map(kv -> Long.parseLong(kv.valueAsString())).orElse(0L);
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void bytesGoInAndComeOutUnchanged() throws Exception {
        int[] sizes = {0, 1, BlobStore.CHUNK_BYTES, BlobStore.CHUNK_BYTES + 1, 60 * 1024 * 1024 + 17};
        for (int size : sizes) {
            byte[] data = random(size, size);
            String name = "models/round-trip/" + size + ".bin";
            long t0 = System.nanoTime();
            HttpResponse<String> up = put(alice, "/_/artifacts/" + name, data, "application/x-model");
            double upSeconds = (System.nanoTime() - t0) / 1e9;
            assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
            JsonNode meta = json.readTree(up.body());
            assertThat(meta.path("size").asLong()).isEqualTo(size);
            assertThat(meta.path("sha256").asText()).isEqualTo(sha256(data));
            assertThat(meta.path("name").asText()).isEqualTo(name);
            assertThat(meta.path("namespace").asText()).isEqualTo("alice");
            assertThat(meta.path("contentType").asText()).isEqualTo("application/x-model");
            assertThat(meta.has("blob")).isFalse();

            long t1 = System.nanoTime();
            HttpResponse<byte[]> down = download(alice, "/_/artifacts/" + name);
            double downSeconds = (System.nanoTime() - t1) / 1e9;
            assertThat(down.statusCode()).isEqualTo(200);
            assertThat(down.headers().firstValue("content-type")).contains("application/x-model");
            assertThat(down.headers().firstValue("etag")).contains("\"" + sha256(data) + "\"");
            assertThat(down.body().length).isEqualTo(size);
            assertThat(sha256(down.body())).isEqualTo(sha256(data));
            if (size > 10_000_000) {
                System.out.printf("MEASURED artifact of %.1f MB: up %.1f MB/s, down %.1f MB/s%n", size / 1e6, size / 1e6 / upSeconds,
                        size / 1e6 / downSeconds);
            }
        }
        HttpResponse<String> head = call(alice, "HEAD", "/_/artifacts/models/round-trip/1.bin");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("content-length")).contains("1");
        assertThat(head.body()).isEmpty();
        for (int size : sizes) {
            assertThat(call(alice, "DELETE", "/_/artifacts/models/round-trip/" + size + ".bin").statusCode()).isEqualTo(200);
        }
        assertThat(usage("alice")).isZero();
    }

    @Test
    void overwriteListAndDelete() throws Exception {
        byte[] v1 = random(3 * BlobStore.CHUNK_BYTES, 1);
        byte[] v2 = random(2 * BlobStore.CHUNK_BYTES + 5, 2);
        assertThat(put(alice, "/_/artifacts/data/set.csv", v1, "text/csv").statusCode()).isEqualTo(200);
        HttpResponse<String> again = put(alice, "/_/artifacts/data/set.csv", v2, "text/csv");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(json.readTree(again.body()).path("error").asText()).isEqualTo("resource already exists");
        assertThat(sha256(download(alice, "/_/artifacts/data/set.csv").body())).isEqualTo(sha256(v1));
        assertThat(put(alice, "/_/artifacts/data/set.csv?overwrite=true", v2, "text/csv").statusCode()).isEqualTo(200);
        assertThat(sha256(download(alice, "/_/artifacts/data/set.csv").body())).isEqualTo(sha256(v2));
        // The replaced bytes are given back.
        await().atMost(Duration.ofSeconds(20)).until(() -> chunkShas(v1).stream().noneMatch(this::chunkStored));
        assertThat(chunkShas(v2)).allMatch(this::chunkStored);

        put(alice, "/_/artifacts/data/other.csv", new byte[] {1, 2, 3}, "text/csv");
        put(alice, "/_/artifacts/logs/today.txt", new byte[] {4}, "text/plain");
        JsonNode data = json.readTree(call(alice, "GET", "/_/artifacts?prefix=data/").body());
        assertThat(data.findValuesAsText("name")).containsExactly("data/other.csv", "data/set.csv");
        assertThat(json.readTree(call(alice, "GET", "/_/artifacts?prefix=data/&limit=1&skip=1").body()).findValuesAsText("name"))
                .containsExactly("data/set.csv");
        assertThat(usage("alice")).isGreaterThanOrEqualTo(v2.length + 4L);

        JsonNode deleted = json.readTree(call(alice, "DELETE", "/_/artifacts/data/set.csv").body());
        assertThat(deleted.path("sha256").asText()).isEqualTo(sha256(v2));
        assertThat(call(alice, "GET", "/_/artifacts/data/set.csv").statusCode()).isEqualTo(404);
        assertThat(call(alice, "DELETE", "/_/artifacts/data/set.csv").statusCode()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(20)).until(() -> chunkShas(v2).stream().noneMatch(this::chunkStored));
        call(alice, "DELETE", "/_/artifacts/data/other.csv");
        call(alice, "DELETE", "/_/artifacts/logs/today.txt");
    }

    @Test
    void equalContentIsStoredOnceAndKeptWhileReferenced() throws Exception {
        byte[] data = random(2 * BlobStore.CHUNK_BYTES + 100, 3);
        assertThat(put(alice, "/_/artifacts/copy-a", data, "application/octet-stream").statusCode()).isEqualTo(200);
        assertThat(put(alice, "/_/artifacts/copy-b", data, "application/octet-stream").statusCode()).isEqualTo(200);
        for (String sha : chunkShas(data)) {
            assertThat(store.get("blob/r/" + sha).orElseThrow().valueAsString()).isEqualTo("2");
        }
        call(alice, "DELETE", "/_/artifacts/copy-a");
        await().atMost(Duration.ofSeconds(20)).until(() -> chunkShas(data).stream()
                .allMatch(sha -> store.get("blob/r/" + sha).map(kv -> kv.valueAsString().equals("1")).orElse(false)));
        assertThat(sha256(download(alice, "/_/artifacts/copy-b").body())).isEqualTo(sha256(data));
        call(alice, "DELETE", "/_/artifacts/copy-b");
        await().atMost(Duration.ofSeconds(20)).until(() -> chunkShas(data).stream().noneMatch(this::chunkStored));
    }

    @Test
    void theQuotaRefusesWhatWouldExceedItAndKeepsNothing() throws Exception {
        admin("POST", "", "{\"name\":\"small\"}");
        String small = json.readTree(admin("POST", "/small/keys", null).body()).path("auth").asText();
        assertThat(admin("PUT", "/small/limits", "{\"artifactQuotaBytes\":" + 3 * BlobStore.CHUNK_BYTES + "}").statusCode()).isEqualTo(200);
        byte[] first = random(2 * BlobStore.CHUNK_BYTES, 4);
        assertThat(put(small, "/_/artifacts/first", first, "application/octet-stream").statusCode()).isEqualTo(200);
        byte[] second = random(2 * BlobStore.CHUNK_BYTES, 5);
        HttpResponse<String> declared = put(small, "/_/artifacts/second", second, "application/octet-stream");
        assertThat(declared.statusCode()).isEqualTo(413);
        assertThat(json.readTree(declared.body()).path("error").asText()).contains("artifact quota of " + 3 * BlobStore.CHUNK_BYTES);
        // Without a declared length the quota is enforced while the bytes arrive.
        HttpResponse<String> streamed = http.send(request(small, "/_/artifacts/second").PUT(HttpRequest.BodyPublishers.ofInputStream(
                () -> new ByteArrayInputStream(second))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(streamed.statusCode()).isEqualTo(413);
        assertThat(usage("small")).isEqualTo(first.length);
        assertThat(call(small, "GET", "/_/artifacts/second").statusCode()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(20)).until(() -> chunkShas(second).stream().noneMatch(this::chunkStored)
                && store.scan(ScanRequest.prefix("blob/u/", 10)).items().isEmpty());
        // Replacing with something smaller is always allowed.
        assertThat(put(small, "/_/artifacts/first?overwrite=true", random(10, 6), "application/octet-stream").statusCode()).isEqualTo(200);
        assertThat(usage("small")).isEqualTo(10);
    }

    @Test
    void aClientThatVanishesMidUploadLeavesNothingBehind() throws Exception {
        byte[] data = random(5 * BlobStore.CHUNK_BYTES, 7);
        long t0 = System.nanoTime();
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            String auth = Base64.getEncoder().encodeToString(alice.getBytes(StandardCharsets.UTF_8));
            out.write(("PUT /api/v1/namespaces/_/artifacts/vanishing HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " + auth
                    + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + data.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(data, 0, 3 * BlobStore.CHUNK_BYTES + 1000);
            out.flush();
            // Give the server time to store the first chunks before the connection goes.
            List<String> firstChunks = chunkShas(Arrays.copyOf(data, 3 * BlobStore.CHUNK_BYTES));
            await().atMost(Duration.ofSeconds(20)).until(() -> firstChunks.stream().allMatch(this::chunkStored));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> chunkShas(data).stream().noneMatch(this::chunkStored)
                && store.scan(ScanRequest.prefix("blob/u/", 10)).items().isEmpty());
        System.out.printf("MEASURED chunks of a vanished upload released %d ms after it started%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(call(alice, "GET", "/_/artifacts/vanishing").statusCode()).isEqualTo(404);

        // A writer that dies without a word (a zone killed mid-upload): the collector gives the upload up.
        BlobStore orphaned = new BlobStore(store, json, System::currentTimeMillis, Duration.ofSeconds(2));
        byte[] partial = random(2 * BlobStore.CHUNK_BYTES, 8);
        orphaned.startUpload().write(new ByteArrayInputStream(partial), Long.MAX_VALUE);
        assertThat(chunkShas(partial)).allMatch(this::chunkStored);
        long t1 = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).until(() -> chunkShas(partial).stream().noneMatch(this::chunkStored));
        System.out.printf("MEASURED chunks of an abandoned upload released after %d ms (abandon after 2 s)%n", (System.nanoTime() - t1) / 1_000_000);
    }

    @Test
    void badRequestsGetClearAnswers() throws Exception {
        assertThat(call(null, "GET", "/alice/artifacts").statusCode()).isEqualTo(401);
        assertThat(call(bob, "GET", "/alice/artifacts").statusCode()).isEqualTo(403);
        assertThat(put(bob, "/alice/artifacts/x", new byte[] {1}, "text/plain").statusCode()).isEqualTo(403);
        HttpResponse<String> missing = call(alice, "GET", "/_/artifacts/nothing/here");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json.readTree(missing.body()).path("error").asText()).isEqualTo("The requested resource does not exist.");
        assertThat(put(alice, "/_/artifacts/bad%21name", new byte[] {1}, "text/plain").statusCode()).isEqualTo(400);
        assertThat(put(alice, "/_/artifacts/a//b", new byte[] {1}, "text/plain").statusCode()).isEqualTo(400);
        assertThat(call(alice, "POST", "/_/artifacts/x").statusCode()).isEqualTo(405);
        assertThat(call(alice, "GET", "/_/artifacts?limit=5000").statusCode()).isEqualTo(400);
        assertThat(put(alice, "/_/artifacts/" + "n".repeat(600), new byte[] {1}, "text/plain").statusCode()).isEqualTo(400);
    }
}
