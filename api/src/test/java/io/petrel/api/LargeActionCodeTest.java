package io.petrel.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.blob.BlobStore;
import io.petrel.store.ScanRequest;
import io.petrel.store.ratis.RatisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Action code up to OpenWhisk's 48 MB, far above the store's value limit: kept as a blob, read back
 * unchanged, never stored twice by the retry log, and given back when the action changes or goes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LargeActionCodeTest {
    private static final String ADMIN = "large-code-test-admin-key-0123456789abcdef";
    private static final int MAX_CODE = 48 * 1024 * 1024;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private InProcessApi zone;
    private RatisStore store;
    private String base;
    private String auth;

    @BeforeAll
    void start() throws Exception {
        zone = InProcessApi.start("large-code", new OpenWhiskApi.Config("z0", Optional.of(ADMIN), Duration.ofHours(1), Duration.ofSeconds(2)),
                json);
        store = zone.store();
        base = zone.base();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> send("POST", "/admin/v1/namespaces", "Bearer " + ADMIN,
                "{\"name\":\"big\"}", null).statusCode() == 201);
        auth = "Basic " + Base64.getEncoder().encodeToString(json.readTree(send("POST", "/admin/v1/namespaces/big/keys", "Bearer " + ADMIN,
                null, null).body()).path("auth").asText().getBytes(StandardCharsets.UTF_8));
    }

    @AfterAll
    void stop() throws Exception {
        zone.close();
    }

    private HttpResponse<String> send(String method, String path, String authorization, String body, String requestId) throws Exception {
        return http.send(builder(method, path, authorization, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body), requestId).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder builder(String method, String path, String authorization, HttpRequest.BodyPublisher body, String requestId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                .header("Authorization", authorization).header("Content-Type", "application/json").method(method, body);
        if (requestId != null) {
            b.header("X-Request-ID", requestId);
        }
        return b;
    }

    /** What a large answer says, read as a stream: status, version, binary, and the SHA-256 of the decoded code. */
    private record Answer(int status, String version, boolean binary, String codeSha256) {
    }

    /** Sends an action whose code is {@code base64Code} (not copied: the test's heap is as capped as a zone's). */
    private Answer putCode(String path, byte[] base64Code, String extra, String requestId) throws Exception {
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.concat(
                HttpRequest.BodyPublishers.ofString("{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\""),
                HttpRequest.BodyPublishers.ofByteArray(base64Code),
                HttpRequest.BodyPublishers.ofString(extra + "\"}}"));
        return answer(http.send(builder("PUT", path, auth, body, requestId).build(), HttpResponse.BodyHandlers.ofInputStream()));
    }

    private Answer get(String path) throws Exception {
        return answer(http.send(builder("GET", path, auth, HttpRequest.BodyPublishers.noBody(), null).build(),
                HttpResponse.BodyHandlers.ofInputStream()));
    }

    private Answer answer(HttpResponse<InputStream> r) throws Exception {
        String version = null;
        boolean binary = false;
        String codeSha = null;
        try (InputStream in = r.body(); JsonParser p = json.getFactory().createParser(in)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t != JsonToken.FIELD_NAME) {
                    continue;
                }
                String field = p.currentName();
                JsonStreamContext parent = p.getParsingContext().getParent();
                boolean inExec = parent != null && "exec".equals(parent.getCurrentName());
                if (field.equals("version") && parent != null && parent.inRoot()) {
                    p.nextToken();
                    version = p.getText();
                } else if (inExec && field.equals("binary")) {
                    p.nextToken();
                    binary = p.getBooleanValue();
                } else if (inExec && field.equals("code")) {
                    p.nextToken();
                    MessageDigest digest = MessageDigest.getInstance("SHA-256");
                    p.readBinaryValue(new DigestOutputStream(OutputStream.nullOutputStream(), digest));
                    codeSha = HexFormat.of().formatHex(digest.digest());
                }
            }
        }
        return new Answer(r.statusCode(), version, binary, codeSha);
    }

    private String action(String code) {
        ObjectNode a = json.createObjectNode();
        a.putObject("exec").put("kind", "nodejs:20").put("code", code);
        return a.toString();
    }

    @Test
    void theSameLargeCodeSentAgainWithOverwriteKeepsOneReference() throws Exception {
        String code = "function main() { return {} }\n// " + "s".repeat(1_500_000);
        // Its own namespace and key: the other test here deletes its namespace at the end.
        assertThat(send("POST", "/admin/v1/namespaces", "Bearer " + ADMIN, "{\"name\":\"same\"}", null).statusCode()).isEqualTo(201);
        String auth = "Basic " + Base64.getEncoder().encodeToString(json.readTree(send("POST", "/admin/v1/namespaces/same/keys", "Bearer " + ADMIN,
                null, null).body()).path("auth").asText().getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> created = send("PUT", "/api/v1/namespaces/_/actions/same", auth, action(code), null);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        for (int i = 0; i < 2; i++) {
            assertThat(send("PUT", "/api/v1/namespaces/_/actions/same?overwrite=true", auth, action(code), null).statusCode()).isEqualTo(200);
        }
        byte[] bytes = code.getBytes(StandardCharsets.UTF_8);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        String first = HexFormat.of().formatHex(sha.digest(java.util.Arrays.copyOf(bytes, 1024 * 1024)));
        // Once the collector has given back what the overwrites released, the chunks have the one reference the action holds.
        await().atMost(Duration.ofSeconds(30)).until(() -> store.scan(ScanRequest.prefix("blob/g/", 10)).items().isEmpty()
                && store.scan(ScanRequest.prefix("blob/u/", 10)).items().isEmpty());
        assertThat(store.get("blob/r/" + first).map(kv -> kv.valueAsString())).contains("1");
        assertThat(send("DELETE", "/api/v1/namespaces/_/actions/same", auth, null, null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.get("blob/c/" + first).isEmpty());
    }

    private long blobChunks() {
        return store.scan(ScanRequest.prefix("blob/c/", 1000)).items().size();
    }

    @Test
    void codeUpTo48MbIsKeptAsABlobAndGivenBack() throws Exception {
        byte[] zip = new byte[MAX_CODE / 4 * 3];
        new Random(1).nextBytes(zip);
        String zipSha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zip));
        byte[] code = Base64.getEncoder().encode(zip);
        assertThat(code.length).isEqualTo(MAX_CODE);

        long t0 = System.nanoTime();
        Answer created = putCode("/api/v1/namespaces/_/actions/huge", code, "", "req-huge-1");
        System.out.printf("MEASURED 48 MB action created in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(created.status()).isEqualTo(200);
        assertThat(created.binary()).isTrue();
        assertThat(created.codeSha256()).isEqualTo(zipSha);
        assertThat(blobChunks()).isEqualTo(48);

        long t1 = System.nanoTime();
        Answer read = get("/api/v1/namespaces/_/actions/huge");
        System.out.printf("MEASURED 48 MB action read in %d ms%n", (System.nanoTime() - t1) / 1_000_000);
        assertThat(read.codeSha256()).isEqualTo(zipSha);
        JsonNode lean = json.readTree(send("GET", "/api/v1/namespaces/_/actions/huge?code=false", auth, null, null).body());
        assertThat(lean.path("exec").has("code")).isFalse();
        assertThat(lean.path("exec").has("codeBlob")).isFalse();
        assertThat(send("GET", "/api/v1/namespaces/_/actions", auth, null, null).body()).doesNotContain("codeBlob");

        // A retry of the same request is answered as before, without applying again or storing the code twice.
        Answer retried = putCode("/api/v1/namespaces/_/actions/huge", code, "", "req-huge-1");
        assertThat(retried.status()).isEqualTo(200);
        assertThat(retried.version()).isEqualTo("0.0.1");
        assertThat(blobChunks()).isEqualTo(48);

        // An update that leaves exec alone keeps the blob; one with new code gives it back.
        Answer params = answer(http.send(builder("PUT", "/api/v1/namespaces/_/actions/huge?overwrite=true", auth,
                HttpRequest.BodyPublishers.ofString("{\"parameters\":[{\"key\":\"x\",\"value\":1}]}"), null).build(),
                HttpResponse.BodyHandlers.ofInputStream()));
        assertThat(params.status()).isEqualTo(200);
        assertThat(params.version()).isEqualTo("0.0.2");
        assertThat(params.codeSha256()).isEqualTo(zipSha);
        Thread.sleep(1500);
        assertThat(blobChunks()).isEqualTo(48);
        assertThat(send("PUT", "/api/v1/namespaces/_/actions/huge?overwrite=true", auth, action("function main() { return {} }"), null)
                .statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> blobChunks() == 0);

        Answer tooBig = putCode("/api/v1/namespaces/_/actions/huge2", code, "AAAA", null);
        assertThat(tooBig.status()).isEqualTo(413);
        assertThat(send("GET", "/api/v1/namespaces/_/actions/huge2", auth, null, null).statusCode()).isEqualTo(404);

        // Delete answers with the code and gives the blob back; so does deleting the namespace.
        String medium = Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(zip, 3 * BlobStore.CHUNK_BYTES));
        assertThat(send("PUT", "/api/v1/namespaces/_/actions/medium", auth, action(medium), null).statusCode()).isEqualTo(200);
        assertThat(blobChunks()).isPositive();
        JsonNode deleted = json.readTree(send("DELETE", "/api/v1/namespaces/_/actions/medium", auth, null, null).body());
        assertThat(deleted.path("exec").path("code").asText()).isEqualTo(medium);
        await().atMost(Duration.ofSeconds(20)).until(() -> blobChunks() == 0);
        assertThat(send("PUT", "/api/v1/namespaces/_/actions/medium", auth, action(medium), null).statusCode()).isEqualTo(200);
        assertThat(send("DELETE", "/admin/v1/namespaces/big", "Bearer " + ADMIN, null, null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> blobChunks() == 0 && store.scan(ScanRequest.prefix("ent/big/", 10)).items().isEmpty());
    }
}
