package io.petrel.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The API's contract, over HTTP only: every endpoint's success and failure answers, tenants kept
 * apart, concurrent writers, and idempotent retries. Run against an API over a real three-replica
 * store in this JVM ({@code ApiContractTest}) and against a real region of three processes while
 * one of them is killed ({@code RegionApiContractTest} in the cli module).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ApiContract {
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String base;
    private String adminKey;
    private String alice;
    private String bob;

    /** Where the suite sends its requests: the API's base URL and the admin key. */
    public record Endpoint(String base, String adminKey) {
    }

    /** Starts what the suite runs against. */
    protected abstract Endpoint open() throws Exception;

    /** Stops it again; called once after the whole suite. */
    protected abstract void close() throws Exception;

    /** Whether the API under test has OpenWhisk's development keys (a local region has them). */
    protected boolean developmentKeysSeeded() {
        return false;
    }

    record Reply(int status, JsonNode body, HttpResponse<String> raw) {
        String error() {
            return body.path("error").asText();
        }
    }

    @BeforeAll
    void start() throws Exception {
        Endpoint endpoint = open();
        base = endpoint.base();
        adminKey = endpoint.adminKey();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> admin("POST", "", "{\"name\":\"alice\"}").status() == 201
                || admin("GET", "/alice", null).status() == 200);
        alice = admin("POST", "/alice/keys", null).body().path("auth").asText();
        bob = admin("POST", "", "{\"name\":\"bob\"}").body().path("auth").asText();
    }

    @AfterAll
    void stop() throws Exception {
        close();
    }

    private Reply send(String method, String path, String auth, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (auth != null) {
            b.header("Authorization", auth.startsWith("Bearer ") ? auth
                    : "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        headers.forEach(b::header);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode n = r.body().isEmpty() || !r.headers().firstValue("content-type").orElse("").contains("json")
                ? json.nullNode() : json.readTree(r.body());
        return new Reply(r.statusCode(), n, r);
    }

    private Reply as(String auth, String method, String path, String body) throws Exception {
        return send(method, "/api/v1/namespaces" + path, auth, body, Map.of());
    }

    private Reply admin(String method, String path, String body) throws Exception {
        return send(method, "/admin/v1/namespaces" + path, "Bearer " + adminKey, body, Map.of());
    }

    private static String action(String code) {
        return "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"" + code + "\"}}";
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void informationEndpointsAndCors() throws Exception {
        Reply root = send("GET", "/", null, null, Map.of());
        assertThat(root.status()).isEqualTo(200);
        assertThat(root.body().path("api_paths").get(0).asText()).isEqualTo("/api/v1");
        assertThat(root.body().path("runtimes").path("nodejs").toString()).contains("nodejs:20");
        assertThat(root.body().path("limits").path("sequence_length").asInt()).isEqualTo(50);
        Reply v1 = send("GET", "/api/v1", null, null, Map.of());
        assertThat(v1.body().path("api_version").asText()).isEqualTo("1.0.0");
        assertThat(send("GET", "/ping", null, null, Map.of()).raw().body()).isEqualTo("pong");
        assertThat(send("GET", "/api/v1/api-docs", null, null, Map.of()).body().path("swagger").asText()).isEqualTo("2.0");
        Reply options = send("OPTIONS", "/api/v1/namespaces/_/actions", null, null, Map.of());
        assertThat(options.status()).isEqualTo(200);
        assertThat(options.raw().headers().firstValue("Access-Control-Allow-Origin")).contains("*");
        assertThat(options.raw().headers().firstValue("Access-Control-Allow-Methods")).contains("GET, DELETE, POST, PUT, HEAD");
        assertThat(as(alice, "GET", "", null).raw().headers().firstValue("Access-Control-Allow-Origin")).contains("*");
        assertThat(send("GET", "/nothing/here", null, null, Map.of()).status()).isEqualTo(404);
    }

    @Test
    void authenticationIsRequiredAndChecked() throws Exception {
        Reply none = as(null, "GET", "", null);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.error()).isEqualTo(ApiException.NO_AUTH);
        assertThat(none.body().path("code").asText()).isNotEmpty();
        assertThat(none.raw().headers().firstValue("WWW-Authenticate")).isPresent();
        String uuid = alice.split(":")[0];
        assertThat(as(uuid + ":" + "x".repeat(64), "GET", "", null).status()).isEqualTo(401);
        assertThat(as(uuid + ":short", "GET", "", null).status()).isEqualTo(401);
        assertThat(as("not-a-uuid:" + "x".repeat(64), "GET", "", null).status()).isEqualTo(401);
        assertThat(send("GET", "/api/v1/namespaces", null, null, Map.of("Authorization", "Basic !!!notbase64")).status()).isEqualTo(401);
        assertThat(as(alice, "GET", "", null).body().toString()).isEqualTo("[\"alice\"]");
        assertThat(as(OpenWhiskApi.GUEST_AUTH, "GET", "", null).status()).as("development keys only where seeded")
                .isEqualTo(developmentKeysSeeded() ? 200 : 401);
    }

    @Test
    void actionLifecycle() throws Exception {
        Reply created = as(alice, "PUT", "/_/actions/hello", "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(){}\"},"
                + "\"parameters\":[{\"key\":\"a\",\"value\":1}],\"annotations\":[{\"key\":\"description\",\"value\":\"hi\"}]}");
        assertThat(created.status()).isEqualTo(200);
        JsonNode a = created.body();
        assertThat(a.path("namespace").asText()).isEqualTo("alice");
        assertThat(a.path("name").asText()).isEqualTo("hello");
        assertThat(a.path("version").asText()).isEqualTo("0.0.1");
        assertThat(a.path("publish").asBoolean()).isFalse();
        assertThat(a.path("exec").path("kind").asText()).isEqualTo("nodejs:20");
        assertThat(a.path("exec").path("binary").asBoolean()).isFalse();
        assertThat(a.path("limits").toString()).isEqualTo("{\"timeout\":60000,\"memory\":256,\"logs\":10,\"concurrency\":1}");
        assertThat(a.path("annotations").toString()).contains("\"key\":\"exec\",\"value\":\"nodejs:20\"")
                .contains("\"key\":\"provide-api-key\",\"value\":false").contains("description");
        assertThat(a.path("updated").asLong()).isPositive();

        Reply again = as(alice, "PUT", "/_/actions/hello", action("x"));
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.error()).isEqualTo(ApiException.ALREADY_EXISTS);

        Reply updated = as(alice, "PUT", "/_/actions/hello?overwrite=true", "{\"limits\":{\"timeout\":1000}}");
        assertThat(updated.status()).isEqualTo(200);
        assertThat(updated.body().path("version").asText()).isEqualTo("0.0.2");
        assertThat(updated.body().path("exec").path("code").asText()).as("merged: code kept").isEqualTo("function main(){}");
        assertThat(updated.body().path("parameters").get(0).path("key").asText()).isEqualTo("a");
        assertThat(updated.body().path("limits").path("timeout").asInt()).isEqualTo(1000);

        assertThat(as(alice, "GET", "/alice/actions/hello", null).body().path("exec").path("code").asText()).isEqualTo("function main(){}");
        assertThat(as(alice, "GET", "/_/actions/hello?code=false", null).body().path("exec").has("code")).isFalse();

        Reply deleted = as(alice, "DELETE", "/_/actions/hello", null);
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.body().path("version").asText()).isEqualTo("0.0.2");
        Reply gone = as(alice, "GET", "/_/actions/hello", null);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.error()).isEqualTo(ApiException.NOT_FOUND);
        assertThat(as(alice, "DELETE", "/_/actions/hello", null).status()).isEqualTo(404);
    }

    @Test
    void execKindsAndCode() throws Exception {
        assertThat(as(alice, "PUT", "/_/actions/py3", "{\"exec\":{\"kind\":\"python:3\",\"code\":\"def main(a): return a\"}}")
                .body().path("exec").path("kind").asText()).isEqualTo("python:3");
        assertThat(as(alice, "PUT", "/_/actions/pydef", "{\"exec\":{\"kind\":\"python:default\",\"code\":\"x\"}}")
                .body().path("exec").path("kind").asText()).startsWith("python:3.");
        String zip = Base64.getEncoder().encodeToString("PK\u0003\u0004 some zip bytes....".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(as(alice, "PUT", "/_/actions/bin", action(zip)).body().path("exec").path("binary").asBoolean()).isTrue();
        Reply badKind = as(alice, "PUT", "/_/actions/k", "{\"exec\":{\"kind\":\"cobol:1\",\"code\":\"x\"}}");
        assertThat(badKind.status()).isEqualTo(400);
        assertThat(badKind.error()).startsWith("The specified runtime 'cobol:1' is not supported by this platform. Valid values are:");
        assertThat(as(alice, "PUT", "/_/actions/j", "{\"exec\":{\"kind\":\"java:21\",\"code\":\"" + zip + "\"}}").error()).contains("main");
        assertThat(as(alice, "PUT", "/_/actions/j", "{\"exec\":{\"kind\":\"java:21\",\"code\":\"" + zip + "\",\"main\":\"Hello\"}}").status()).isEqualTo(200);
        assertThat(as(alice, "PUT", "/_/actions/bb", "{\"exec\":{\"kind\":\"blackbox\",\"image\":\"openwhisk/dockerskeleton\"}}").status()).isEqualTo(200);
        assertThat(as(alice, "PUT", "/_/actions/noexec", "{}").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/actions/seq", "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/alice/py3\",\"/alice/missing\"]}}")
                .error()).contains("/alice/missing");
        Reply seq = as(alice, "PUT", "/_/actions/seq", "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/alice/py3\",\"/_/bin\"]}}");
        assertThat(seq.status()).isEqualTo(200);
        assertThat(seq.body().path("exec").path("components").toString()).isEqualTo("[\"/alice/py3\",\"/alice/bin\"]");
        assertThat(as(alice, "PUT", "/_/actions/seq2", "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/bob/x\"]}}").status()).isEqualTo(400);
    }

    @Test
    void badInputGetsClearErrorsAndChangesNothing() throws Exception {
        assertThat(as(alice, "PUT", "/_/actions/keep", action("v1")).status()).isEqualTo(200);
        Reply malformed = as(alice, "PUT", "/_/actions/keep?overwrite=true", "{not json");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.error()).startsWith("The request content was malformed");
        assertThat(as(alice, "PUT", "/_/actions/keep?overwrite=true", "[1,2]").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/actions/keep?overwrite=true", "{\"exec\":\"code\"}").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/actions/keep?overwrite=true", "{\"parameters\":{\"a\":1}}").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/actions/keep?overwrite=true", "{\"publish\":\"yes\"}").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/actions/keep?overwrite=true", "{\"version\":\"one\"}").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/actions/keep?overwrite=true", "{\"limits\":{\"memory\":4096}}").error())
                .isEqualTo("Memory limit 4096 MB exceeds allowed threshold of 512 MB.");
        assertThat(as(alice, "PUT", "/_/actions/keep?overwrite=true", "{\"limits\":{\"timeout\":10}}").status()).isEqualTo(400);
        String big = "x".repeat(1024 * 1024 + 10);
        Reply tooBig = as(alice, "PUT", "/_/actions/keep?overwrite=true", "{\"parameters\":[{\"key\":\"p\",\"value\":\"" + big + "\"}]}");
        assertThat(tooBig.status()).isEqualTo(413);
        assertThat(tooBig.error()).startsWith("Parameters larger than allowed:");
        for (String bad : List.of("%20lead", "trail%20", "a%2Fb%2Fc%2Fd", "%24dollar", "x".repeat(257))) {
            assertThat(as(alice, "PUT", "/_/actions/" + bad, action("x")).status()).as(bad).isIn(400, 404);
        }
        assertThat(as(alice, "PUT", "/_/actions/%24dollar", action("x")).error()).isEqualTo(ApiException.BAD_NAME);
        assertThat(as(alice, "GET", "/_/actions?limit=201", null).error()).isEqualTo("The value '201' is not in the range of 0 to 200 for actions.");
        assertThat(as(alice, "GET", "/_/actions?limit=abc", null).status()).isEqualTo(400);
        assertThat(as(alice, "PATCH", "/_/actions/keep", "{}").status()).isEqualTo(405);
        JsonNode kept = as(alice, "GET", "/_/actions/keep", null).body();
        assertThat(kept.path("version").asText()).isEqualTo("0.0.1");
        assertThat(kept.path("exec").path("code").asText()).isEqualTo("v1");
    }

    @Test
    void listsPageAndCount() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(as(bob, "PUT", "/_/triggers/t" + i, "{}").status()).isEqualTo(200);
        }
        JsonNode all = as(bob, "GET", "/_/triggers?limit=0", null).body();
        assertThat(all.size()).isGreaterThanOrEqualTo(5);
        assertThat(all.get(0).path("updated").asLong()).isGreaterThanOrEqualTo(all.get(all.size() - 1).path("updated").asLong());
        assertThat(all.get(0).has("parameters")).as("list items are summaries").isFalse();
        assertThat(as(bob, "GET", "/_/triggers?limit=2", null).body().size()).isEqualTo(2);
        JsonNode skipped = as(bob, "GET", "/_/triggers?limit=2&skip=1", null).body();
        assertThat(skipped.get(0).path("name").asText()).isEqualTo(all.get(1).path("name").asText());
        assertThat(as(bob, "GET", "/_/triggers?count=true", null).body().path("triggers").asInt()).isEqualTo(all.size());
    }

    @Test
    void packagesBindingsAndPublishing() throws Exception {
        assertThat(as(alice, "PUT", "/_/packages/tools", "{\"publish\":true,\"parameters\":[{\"key\":\"p\",\"value\":\"v\"}]}").status()).isEqualTo(200);
        assertThat(as(alice, "PUT", "/_/actions/tools/hammer", action("h")).body().path("namespace").asText()).isEqualTo("alice/tools");
        assertThat(as(alice, "PUT", "/_/actions/nopkg/x", action("h")).status()).isEqualTo(404);
        JsonNode pkg = as(alice, "GET", "/_/packages/tools", null).body();
        assertThat(pkg.path("binding").toString()).isEqualTo("{}");
        assertThat(pkg.path("actions").get(0).path("name").asText()).isEqualTo("hammer");
        assertThat(pkg.path("feeds").isArray()).isTrue();
        assertThat(as(alice, "GET", "/_/actions/tools/", null).body().get(0).path("name").asText()).isEqualTo("hammer");
        assertThat(as(alice, "GET", "/_/actions", null).body().toString()).contains("alice/tools");
        assertThat(as(alice, "GET", "/_/packages", null).body().get(0).has("binding")).isTrue();

        // Another tenant reads a published package and its actions, binds to it, and sees nothing else.
        assertThat(as(bob, "GET", "/alice/packages/tools", null).status()).isEqualTo(200);
        assertThat(as(bob, "GET", "/alice/actions/tools/hammer", null).body().path("exec").path("code").asText()).isEqualTo("h");
        assertThat(as(bob, "GET", "/alice/packages?public=true", null).body().toString()).contains("tools");
        Reply binding = as(bob, "PUT", "/_/packages/mytools", "{\"binding\":{\"namespace\":\"alice\",\"name\":\"tools\"}}");
        assertThat(binding.status()).isEqualTo(200);
        assertThat(binding.body().path("binding").toString()).isEqualTo("{\"namespace\":\"alice\",\"name\":\"tools\"}");
        assertThat(as(bob, "GET", "/_/actions/mytools/hammer", null).status()).isEqualTo(200);
        assertThat(as(bob, "GET", "/_/packages", null).body().toString()).contains("\"binding\":{\"namespace\":\"alice\",\"name\":\"tools\"}");
        Reply intoBinding = as(bob, "PUT", "/_/actions/mytools/nail", action("n"));
        assertThat(intoBinding.status()).isEqualTo(400);
        assertThat(intoBinding.error()).isEqualTo(ApiException.BINDING);
        assertThat(as(bob, "PUT", "/_/packages/bad", "{\"binding\":{\"namespace\":\"alice\",\"name\":\"missing\"}}").status()).isEqualTo(400);

        assertThat(as(alice, "PUT", "/_/packages/private", "{}").status()).isEqualTo(200);
        assertThat(as(alice, "PUT", "/_/actions/private/secret", action("s")).status()).isEqualTo(200);
        assertThat(as(bob, "GET", "/alice/packages/private", null).status()).isIn(403, 404);
        assertThat(as(bob, "GET", "/alice/actions/private/secret", null).status()).isIn(403, 404);
        assertThat(as(bob, "GET", "/alice/actions/private/secret", null).raw().body()).doesNotContain("\"s\"");
        assertThat(as(bob, "GET", "/alice/actions", null).status()).isEqualTo(403);
        assertThat(as(bob, "PUT", "/alice/actions/intruder", action("x")).status()).isEqualTo(403);
        assertThat(as(bob, "DELETE", "/alice/packages/tools", null).status()).isEqualTo(403);
        assertThat(as(bob, "GET", "/alice/triggers", null).status()).isEqualTo(403);

        Reply notEmpty = as(alice, "DELETE", "/_/packages/private", null);
        assertThat(notEmpty.status()).isEqualTo(409);
        assertThat(notEmpty.error()).startsWith("Package not empty");
        assertThat(as(alice, "DELETE", "/_/packages/private?force=true", null).status()).isEqualTo(200);
        assertThat(as(alice, "GET", "/_/actions/private/secret", null).status()).isEqualTo(404);
    }

    @Test
    void triggersRulesAndSharedNames() throws Exception {
        Reply t = as(alice, "PUT", "/_/triggers/ring", "{\"parameters\":[{\"key\":\"k\",\"value\":\"v\"}]}");
        assertThat(t.status()).isEqualTo(200);
        assertThat(t.body().path("limits").toString()).isEqualTo("{}");
        assertThat(t.body().path("annotations").toString()).isEqualTo("[]");
        assertThat(as(alice, "POST", "/_/triggers/ring", "{}").status()).as("no active rule: 204").isEqualTo(204);
        assertThat(as(alice, "PUT", "/_/actions/answer", action("a")).status()).isEqualTo(200);

        Reply sameName = as(alice, "PUT", "/_/triggers/answer", "{}");
        assertThat(sameName.status()).isEqualTo(409);
        assertThat(sameName.error()).isEqualTo(ApiException.OTHER_COLLECTION);

        Reply rule = as(alice, "PUT", "/_/rules/r1", "{\"trigger\":\"/alice/ring\",\"action\":\"/_/answer\"}");
        assertThat(rule.status()).isEqualTo(200);
        assertThat(rule.body().path("status").asText()).isEqualTo("active");
        assertThat(rule.body().path("trigger").toString()).isEqualTo("{\"path\":\"alice\",\"name\":\"ring\"}");
        assertThat(rule.body().path("action").toString()).isEqualTo("{\"path\":\"alice\",\"name\":\"answer\"}");
        assertThat(as(alice, "GET", "/_/triggers/ring", null).body().path("rules").path("alice/r1").path("status").asText()).isEqualTo("active");
        assertThat(as(alice, "POST", "/_/rules/r1", "{\"status\":\"inactive\"}").status()).isEqualTo(200);
        assertThat(as(alice, "GET", "/_/rules/r1", null).body().path("status").asText()).isEqualTo("inactive");
        assertThat(as(alice, "POST", "/_/rules/r1", "{\"status\":\"maybe\"}").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/rules/r2", "{\"trigger\":\"/alice/none\",\"action\":\"/alice/answer\"}").status()).isEqualTo(400);
        assertThat(as(alice, "PUT", "/_/rules/r2", "{\"trigger\":\"/alice/ring\",\"action\":\"/alice/none\"}").status()).isEqualTo(400);
        assertThat(as(alice, "DELETE", "/_/rules/r1", null).body().path("status").asText()).isEqualTo("inactive");
        assertThat(as(alice, "GET", "/_/triggers/ring", null).body().path("rules").has("alice/r1")).isFalse();
        assertThat(as(alice, "DELETE", "/_/triggers/ring", null).status()).isEqualTo(200);
    }

    @Test
    void concurrentWritersOfOneEntity() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Reply>> creates = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                creates.add(() -> as(bob, "PUT", "/_/actions/race", action("c")));
            }
            List<Integer> createStatus = new ArrayList<>();
            for (Future<Reply> f : pool.invokeAll(creates)) {
                createStatus.add(f.get().status());
            }
            assertThat(createStatus).containsOnly(200, 409);
            assertThat(createStatus.stream().filter(s -> s == 200).count()).as("exactly one create wins").isEqualTo(1);

            List<Callable<Reply>> updates = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int n = i;
                updates.add(() -> as(bob, "PUT", "/_/actions/race?overwrite=true", "{\"parameters\":[{\"key\":\"n\",\"value\":" + n + "}]}"));
            }
            long won = 0;
            for (Future<Reply> f : pool.invokeAll(updates)) {
                Reply r = f.get();
                assertThat(r.status()).isIn(200, 409);
                if (r.status() == 409) {
                    assertThat(r.error()).isEqualTo(ApiException.CONCURRENT);
                } else {
                    won++;
                }
            }
            // No update is lost: every one that was acknowledged bumped the version once.
            String version = as(bob, "GET", "/_/actions/race", null).body().path("version").asText();
            assertThat(version).isEqualTo("0.0." + (1 + won));
            System.out.printf("concurrent updates: %d of 16 won, version %s%n", won, version);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aWriteRetriedWithTheSameRequestIdAppliesOnce() throws Exception {
        Map<String, String> id = Map.of("X-Request-ID", "retry-" + System.nanoTime());
        Reply first = send("PUT", "/api/v1/namespaces/_/actions/once", alice, action("1"), id);
        assertThat(first.status()).isEqualTo(200);
        Reply retry = send("PUT", "/api/v1/namespaces/_/actions/once", alice, action("1"), id);
        assertThat(retry.status()).as("the retry gets the first answer, not 409").isEqualTo(200);
        assertThat(retry.body()).isEqualTo(first.body());
        Map<String, String> updateId = Map.of("X-Request-ID", "update-" + System.nanoTime());
        assertThat(send("PUT", "/api/v1/namespaces/_/actions/once?overwrite=true", alice, "{}", updateId).body().path("version").asText()).isEqualTo("0.0.2");
        assertThat(send("PUT", "/api/v1/namespaces/_/actions/once?overwrite=true", alice, "{}", updateId).body().path("version").asText()).isEqualTo("0.0.2");
        assertThat(as(alice, "GET", "/_/actions/once", null).body().path("version").asText()).as("applied once").isEqualTo("0.0.2");
        Map<String, String> deleteId = Map.of("X-Request-ID", "delete-" + System.nanoTime());
        assertThat(send("DELETE", "/api/v1/namespaces/_/actions/once", alice, null, deleteId).status()).isEqualTo(200);
        assertThat(send("DELETE", "/api/v1/namespaces/_/actions/once", alice, null, deleteId).status()).isEqualTo(200);
        // The same request id in another tenant's namespace is another request.
        assertThat(send("PUT", "/api/v1/namespaces/_/actions/once", bob, action("b"), id).body().path("namespace").asText()).isEqualTo("bob");
    }

    @Test
    void limitsAndAdministration() throws Exception {
        JsonNode limits = as(alice, "GET", "/_/limits", null).body();
        assertThat(limits.path("concurrentInvocations").asInt()).isEqualTo(30);
        assertThat(limits.path("maxActionMemory").asInt()).isEqualTo(512);
        assertThat(as(bob, "GET", "/alice/limits", null).status()).isEqualTo(403);
        assertThat(admin("PUT", "/alice/limits", "{\"invocationsPerMinute\":500}").body().path("invocationsPerMinute").asInt()).isEqualTo(500);
        assertThat(as(alice, "GET", "/_/limits", null).body().path("invocationsPerMinute").asInt()).isEqualTo(500);
        assertThat(admin("PUT", "/alice/limits", "{\"bogus\":1}").status()).isEqualTo(400);

        assertThat(send("GET", "/admin/v1/namespaces", "Bearer wrong", null, Map.of()).status()).isEqualTo(401);
        assertThat(send("GET", "/admin/v1/namespaces", alice, null, Map.of()).status()).isEqualTo(401);
        assertThat(admin("POST", "", "{\"name\":\"alice\"}").status()).isEqualTo(409);
        assertThat(admin("POST", "", "{\"name\":\"bad name!\"}").status()).isEqualTo(400);
        assertThat(admin("GET", "", null).body().toString()).contains("\"name\":\"alice\"").contains("\"name\":\"bob\"");

        // A namespace of its own: two keys, one revoked, then the namespace deleted with its data.
        String k1 = admin("POST", "", "{\"name\":\"carol\"}").body().path("auth").asText();
        String k2 = admin("POST", "/carol/keys", null).body().path("auth").asText();
        assertThat(as(k1, "PUT", "/_/actions/a", action("x")).status()).isEqualTo(200);
        assertThat(as(k2, "GET", "/_/actions/a", null).status()).isEqualTo(200);
        assertThat(admin("GET", "/carol/keys", null).body().size()).isEqualTo(2);
        long revoked = System.nanoTime();
        assertThat(admin("DELETE", "/carol/keys/" + k2.split(":")[0], null).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(3)).until(() -> as(k2, "GET", "", null).status() == 401);
        System.out.printf("revoked key refused after %d ms%n", (System.nanoTime() - revoked) / 1_000_000);
        assertThat(as(k1, "GET", "", null).status()).isEqualTo(200);
        assertThat(admin("DELETE", "/carol", null).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(3)).until(() -> as(k1, "GET", "", null).status() == 401);
        String again = admin("POST", "", "{\"name\":\"carol\"}").body().path("auth").asText();
        assertThat(as(again, "GET", "/_/actions/a", null).status()).as("a deleted namespace's data is gone").isEqualTo(404);
    }
}
