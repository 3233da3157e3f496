package io.petrel.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.petrel.api.activation.ActivationRecord;
import io.petrel.api.activation.ActivationStore;
import io.petrel.store.ScanRequest;
import io.petrel.store.ratis.RatisStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Activation records over HTTP against a real three-replica store: OpenWhisk's list filters and
 * shapes, one record with its result and logs, limits on what is kept, tenants kept apart, and
 * records that expire after the retention period without leaving anything behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ActivationsApiTest {
    private static final String ADMIN = "activations-test-admin-key-0123456789abcdef";
    private static final long T0 = 1_700_000_000_000L;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private InProcessApi zone;
    private RatisStore store;
    private OpenWhiskApi api;
    private String base;
    private String alice;
    private String bob;

    record Reply(int status, JsonNode body) {
    }

    @BeforeAll
    void start() throws Exception {
        zone = InProcessApi.start("activations", new OpenWhiskApi.Config("z0", Optional.of(ADMIN)), json);
        store = zone.store();
        api = zone.api();
        base = zone.base();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> admin("POST", "", "{\"name\":\"alice\"}").status() == 201);
        alice = admin("GET", "/alice", null).status() == 200 ? admin("POST", "/alice/keys", null).body().path("auth").asText() : null;
        bob = admin("POST", "", "{\"name\":\"bob\"}").body().path("auth").asText();
    }

    @AfterAll
    void stop() throws Exception {
        zone.close();
    }

    private Reply send(String method, String path, String auth, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (auth != null) {
            b.header("Authorization", auth.startsWith("Bearer ") ? auth
                    : "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body().isEmpty() ? json.nullNode() : json.readTree(r.body()));
    }

    private Reply admin(String method, String path, String body) throws Exception {
        return send(method, "/admin/v1/namespaces" + path, "Bearer " + ADMIN, body);
    }

    private Reply get(String auth, String path) throws Exception {
        return send("GET", "/api/v1/namespaces" + path, auth, null);
    }

    private static String id() {
        return UUID.randomUUID().toString().replace("-", "");
    }

    private ActivationRecord record(String ns, String path, String id, long start, int statusCode, List<String> logs) {
        String name = path.contains("/") ? path.substring(path.indexOf('/') + 1) : path;
        ArrayNode annotations = json.createArrayNode();
        annotations.addObject().put("key", "path").put("value", ns + "/" + path);
        annotations.addObject().put("key", "kind").put("value", "nodejs:20");
        annotations.addObject().put("key", "waitTime").put("value", 12);
        return new ActivationRecord(ns, name, path, ns, id, start, start + 42, "0.0.1", statusCode,
                json.createObjectNode().put("payload", "hello " + id), annotations, logs, Optional.empty());
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void listFiltersPagingAndShapes() throws Exception {
        ActivationStore activations = api.activationStore();
        String ns = "lister";
        assertThat(admin("POST", "", "{\"name\":\"lister\"}").status()).isEqualTo(201);
        String alice = admin("POST", "/lister/keys", null).body().path("auth").asText();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String path = i % 5 == 0 ? "tools/hello" : i % 5 == 1 ? "other" : "hello";
            String id = id();
            ids.add(id);
            activations.record(record(ns, path, id, T0 + i * 1000L, i % 7 == 0 ? 1 : 0, List.of("line " + i)), 10 << 20);
        }
        // Newest first, 30 by default, summaries only.
        JsonNode page = get(alice, "/_/activations").body();
        assertThat(page).hasSize(30);
        assertThat(page.get(0).path("activationId").asText()).isEqualTo(ids.get(49));
        assertThat(page.get(29).path("activationId").asText()).isEqualTo(ids.get(20));
        JsonNode first = page.get(0);
        for (String f : List.of("namespace", "name", "version", "publish", "annotations", "activationId", "start", "end", "duration", "statusCode")) {
            assertThat(first.has(f)).as("summary field %s", f).isTrue();
        }
        assertThat(first.has("logs")).isFalse();
        assertThat(first.has("response")).isFalse();
        assertThat(first.has("path")).isFalse();
        assertThat(first.path("duration").asLong()).isEqualTo(42);

        JsonNode skipped = get(alice, "/_/activations?limit=5&skip=2").body();
        assertThat(skipped.findValuesAsText("activationId")).containsExactly(ids.get(47), ids.get(46), ids.get(45), ids.get(44), ids.get(43));
        assertThat(get(alice, "/lister/activations?limit=0").body()).hasSize(50);
        assertThat(get(alice, "/_/activations?name=hello&limit=200").body()).hasSize(30)
                .allSatisfy(a -> assertThat(a.path("name").asText()).isEqualTo("hello"));
        JsonNode inPackage = get(alice, "/_/activations?name=tools/hello&limit=200").body();
        assertThat(inPackage).hasSize(10);
        assertThat(inPackage.get(0).path("activationId").asText()).isEqualTo(ids.get(45));
        JsonNode window = get(alice, "/_/activations?since=" + (T0 + 10_000) + "&upto=" + (T0 + 19_000) + "&limit=200").body();
        assertThat(window.findValuesAsText("activationId")).hasSize(10).containsExactlyElementsOf(ids.subList(10, 20).reversed());
        assertThat(get(alice, "/_/activations?since=" + (T0 + 19_000) + "&upto=" + (T0 + 10_000)).body()).isEmpty();
        assertThat(get(alice, "/_/activations?count=true").body().path("activations").asLong()).isEqualTo(50);
        assertThat(get(alice, "/_/activations?count=true&name=other").body().path("activations").asLong()).isEqualTo(10);
        JsonNode docs = get(alice, "/_/activations?docs=true&limit=3").body();
        assertThat(docs).hasSize(3);
        assertThat(docs.get(0).path("logs").get(0).asText()).isEqualTo("line 49");
        assertThat(docs.get(0).path("response").path("result").path("payload").asText()).isEqualTo("hello " + ids.get(49));

        // One record, its result and its logs.
        JsonNode one = get(alice, "/_/activations/" + ids.get(7)).body();
        assertThat(one.path("activationId").asText()).isEqualTo(ids.get(7));
        assertThat(one.path("response").path("status").asText()).isEqualTo("application error");
        assertThat(one.path("response").path("success").asBoolean()).isFalse();
        assertThat(one.path("response").has("statusCode")).isFalse();
        assertThat(one.has("statusCode")).isFalse();
        assertThat(one.path("annotations").toString()).contains("\"waitTime\"");
        JsonNode result = get(alice, "/_/activations/" + ids.get(8) + "/result").body();
        assertThat(result.path("status").asText()).isEqualTo("success");
        assertThat(result.path("success").asBoolean()).isTrue();
        assertThat(result.path("result").path("payload").asText()).isEqualTo("hello " + ids.get(8));
        assertThat(get(alice, "/_/activations/" + ids.get(8) + "/logs").body().toString()).isEqualTo("{\"logs\":[\"line 8\"]}");

        // Bad requests and other tenants.
        assertThat(get(alice, "/_/activations/" + id()).status()).isEqualTo(404);
        Reply badId = get(alice, "/_/activations/not-an-id");
        assertThat(badId.status()).isEqualTo(400);
        assertThat(badId.body().path("error").asText()).contains("activation id");
        assertThat(get(alice, "/_/activations/" + ids.get(8) + "/nothing").status()).isEqualTo(404);
        assertThat(get(alice, "/_/activations?limit=201").body().path("error").asText()).contains("not in the range of 0 to 200");
        assertThat(get(alice, "/_/activations?skip=-1").status()).isEqualTo(400);
        assertThat(get(alice, "/_/activations?since=yesterday").status()).isEqualTo(400);
        assertThat(get(alice, "/_/activations?name=a/b/c").status()).isEqualTo(400);
        assertThat(get(alice, "/_/activations?name=bad%21name").status()).isEqualTo(400);
        assertThat(send("DELETE", "/api/v1/namespaces/_/activations/" + ids.get(8), alice, null).status()).isEqualTo(405);
        assertThat(get(bob, "/lister/activations").status()).isEqualTo(403);
        assertThat(get(bob, "/lister/activations/" + ids.get(8)).status()).isEqualTo(403);
        assertThat(get(bob, "/_/activations").body()).isEmpty();
        assertThat(get(null, "/lister/activations").status()).isEqualTo(401);
    }

    @Test
    void largeLogsAndResultsAreKeptWithinOpenWhisksLimits() throws Exception {
        ActivationStore activations = api.activationStore();
        // 3,000 lines of 200 characters: too large to sit in the record, stored in chunks.
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            lines.add(String.format("2026-11-24T10:00:00.%09dZ stdout: %s", i, "x".repeat(160)));
        }
        String big = id();
        activations.record(record("alice", "chatty", big, T0 + 100_000_000L, 0, lines), 10 << 20);
        JsonNode logs = get(alice, "/_/activations/" + big + "/logs").body().path("logs");
        assertThat(logs).hasSize(3000);
        assertThat(logs.get(2999).asText()).isEqualTo(lines.get(2999));

        String cut = id();
        activations.record(record("alice", "chatty", cut, T0 + 100_000_001L, 0, lines), 10_000);
        JsonNode truncated = get(alice, "/_/activations/" + cut + "/logs").body().path("logs");
        assertThat(truncated.size()).isLessThan(3000);
        assertThat(truncated.get(truncated.size() - 1).asText())
                .isEqualTo("Logs were truncated because the total bytes size exceeds the limit of 10000 bytes.");

        String huge = id();
        ActivationRecord r = record("alice", "chatty", huge, T0 + 100_000_002L, 0, List.of());
        r = new ActivationRecord(r.namespace(), r.name(), r.path(), r.subject(), r.activationId(), r.start(), r.end(), r.version(), 0,
                json.createObjectNode().put("blob", "y".repeat(ActivationStore.MAX_RESULT_BYTES + 10)), r.annotations(), r.logs(), r.cause());
        activations.record(r, 10 << 20);
        JsonNode tooBig = get(alice, "/_/activations/" + huge + "/result").body();
        assertThat(tooBig.path("success").asBoolean()).isFalse();
        assertThat(tooBig.path("result").path("error").asText()).startsWith("The action produced a response that exceeded the allowed length");

        // Recording the same activation again keeps the first record.
        activations.record(record("alice", "chatty", big, T0 + 100_000_000L, 1, List.of("other")), 10 << 20);
        assertThat(get(alice, "/_/activations/" + big + "/logs").body().path("logs")).hasSize(3000);
    }

    @Test
    void recordsExpireAfterTheRetentionAndLeaveNothingBehind() throws Exception {
        assertThat(admin("POST", "", "{\"name\":\"brief\"}").status()).isEqualTo(201);
        String brief = admin("POST", "/brief/keys", null).body().path("auth").asText();
        OpenWhiskApi shortLived = new OpenWhiskApi(new OpenWhiskApi.Config("z0", Optional.empty(), Duration.ofSeconds(2)), store, json,
                System::currentTimeMillis);
        long now = System.currentTimeMillis();
        java.util.Set<String> leasesBefore = leaseKeys();
        for (int i = 0; i < 5; i++) {
            shortLived.activationStore().record(record("brief", "hello", id(), now + i, 0, List.of("hi")), 1 << 20);
        }
        java.util.Set<String> bucketKeys = leaseKeys();
        bucketKeys.removeAll(leasesBefore);
        assertThat(bucketKeys).as("bucket keys of the short retention").isNotEmpty();
        assertThat(get(brief, "/_/activations").body()).hasSize(5);
        long started = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> store.scan(ScanRequest.prefix("act/brief/", 100)).items().isEmpty());
        System.out.printf("MEASURED activations with 2 s retention gone after %d ms (lease bucket 1 s)%n",
                (System.nanoTime() - started) / 1_000_000 + 0);
        assertThat(get(brief, "/_/activations").body()).isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> java.util.Collections.disjoint(leaseKeys(), bucketKeys));
        shortLived.close();
    }

    private java.util.Set<String> leaseKeys() {
        java.util.Set<String> keys = new java.util.HashSet<>();
        store.scan(ScanRequest.prefix("actlease/", 1000)).items().forEach(kv -> keys.add(kv.key()));
        return keys;
    }

    @Test
    void tenThousandRecordsListQuicklyAndGoWithTheirNamespace() throws Exception {
        assertThat(admin("POST", "", "{\"name\":\"busy\"}").status()).isEqualTo(201);
        String busy = admin("POST", "/busy/keys", null).body().path("auth").asText();
        ActivationStore activations = api.activationStore();
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(32);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 32; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                for (int i = thread; i < 10_000; i += 32) {
                    activations.record(record("busy", i % 100 == 0 ? "rare" : "common", id(), T0 + i, 0, List.of("l")), 1 << 20);
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();
        System.out.printf("MEASURED 10,000 activation records written by 32 threads in %d ms%n", (System.nanoTime() - started) / 1_000_000);
        get(busy, "/_/activations");
        for (String query : List.of("", "?name=rare", "?since=" + (T0 + 5000) + "&upto=" + (T0 + 5100), "?docs=true&limit=30", "?skip=9000&limit=50",
                "?count=true")) {
            long t0 = System.nanoTime();
            Reply r = get(busy, "/_/activations" + query);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("MEASURED list of 10,000 activations '%s': %d ms%n", query, ms);
            assertThat(r.status()).isEqualTo(200);
            assertThat(ms).as("list %s", query).isLessThan(10_000);
        }
        assertThat(get(busy, "/_/activations?count=true").body().path("activations").asLong()).isEqualTo(10_000);
        assertThat(get(busy, "/_/activations?name=rare&limit=200").body()).hasSize(100);
        assertThat(get(busy, "/_/activations?since=" + (T0 + 5000) + "&upto=" + (T0 + 5100) + "&limit=200").body()).hasSize(101);

        assertThat(admin("DELETE", "/busy", null).status()).isEqualTo(200);
        assertThat(store.scan(ScanRequest.prefix("act/busy/", 10)).items()).isEmpty();
    }
}
