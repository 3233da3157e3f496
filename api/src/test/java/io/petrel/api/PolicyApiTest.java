package io.petrel.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.petrel.api.activation.ActivationRecord;
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
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Security policies as tenant data, over HTTP against a real three-replica store: key roles, allowed
 * kinds, whether activations are stored, who may read and invoke published packages; and the
 * seeded {@code /whisk.system/utils} catalog package.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyApiTest {
    private static final String ADMIN = "policy-test-admin-key-0123456789abcdef";
    private static final String NODE_ACTION = "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){return {}}\"}}";
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private InProcessApi zone;
    private OpenWhiskApi api;
    private String base;

    record Reply(int status, JsonNode body) {
        String error() {
            return body.path("error").asText();
        }
    }

    @BeforeAll
    void start() throws Exception {
        zone = InProcessApi.start("policy", new OpenWhiskApi.Config("z0", Optional.of(ADMIN)), json);
        api = zone.api();
        base = zone.base();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> admin("GET", "", null).status() == 200);
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
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body().isEmpty() ? json.nullNode() : json.readTree(r.body()));
    }

    private Reply admin(String method, String path, String body) throws Exception {
        return send(method, "/admin/v1/namespaces" + path, "Bearer " + ADMIN, body);
    }

    private Reply as(String auth, String method, String path, String body) throws Exception {
        return send(method, "/api/v1/namespaces" + path, auth, body);
    }

    /** A namespace; returns its first (admin) key. */
    private String namespace(String name) throws Exception {
        Reply r = admin("POST", "", "{\"name\":\"" + name + "\"}");
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
        assertThat(r.body().path("role").asText()).isEqualTo("admin");
        return r.body().path("auth").asText();
    }

    private String key(String ns, String role) throws Exception {
        Reply r = admin("POST", "/" + ns + "/keys", role == null ? null : "{\"role\":\"" + role + "\"}");
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
        return r.body().path("auth").asText();
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void keyRolesLimitWhatAKeyMayDo() throws Exception {
        String owner = namespace("roles");
        String developer = key("roles", null);
        String reader = key("roles", "reader");
        String invoker = key("roles", "invoker");
        assertThat(admin("POST", "/roles/keys", "{\"role\":\"superuser\"}").error()).contains("Unknown key role 'superuser'");
        JsonNode keys = admin("GET", "/roles/keys", null).body();
        assertThat(keys.findValuesAsText("role")).containsExactlyInAnyOrder("admin", "developer", "reader", "invoker");

        assertThat(as(developer, "PUT", "/_/actions/a", NODE_ACTION).status()).isEqualTo(200);
        Reply readerWrite = as(reader, "PUT", "/_/actions/b", NODE_ACTION);
        assertThat(readerWrite.status()).isEqualTo(403);
        assertThat(readerWrite.error()).contains("'reader' key may not PUT actions");
        assertThat(as(reader, "GET", "/_/actions/a", null).status()).isEqualTo(200);
        assertThat(as(reader, "DELETE", "/_/actions/a", null).status()).isEqualTo(403);
        assertThat(as(invoker, "GET", "/_/actions/a", null).status()).isEqualTo(403);
        assertThat(as(invoker, "PUT", "/_/triggers/t", "{}").status()).isEqualTo(403);
        assertThat(as(invoker, "GET", "/_/activations", null).status()).isEqualTo(200);
        // Past the role check, invoking meets the missing invoker (its own issue).
        assertThat(as(invoker, "POST", "/_/actions/a", "{}").status()).isEqualTo(503);
        assertThat(as(invoker, "POST", "/_/actions/missing", "{}").status()).isEqualTo(404);

        assertThat(as(developer, "GET", "/_/policy", null).status()).isEqualTo(200);
        assertThat(as(developer, "PUT", "/_/policy", "{\"storeActivations\":false}").status()).isEqualTo(403);
        assertThat(as(reader, "PUT", "/_/policy", "{\"storeActivations\":false}").status()).isEqualTo(403);
        assertThat(as(owner, "PUT", "/_/policy", "{\"storeActivations\":false}").body().path("storeActivations").asBoolean()).isFalse();
        assertThat(as(reader, "GET", "/_/limits", null).body().path("storeActivations").asBoolean()).isFalse();
    }

    @Test
    void allowedKindsAndStoredActivationsFollowThePolicy() throws Exception {
        String owner = namespace("kinds");
        Reply set = admin("PUT", "/kinds/policy", "{\"allowedKinds\":[\"python:3\"]}");
        assertThat(set.status()).isEqualTo(200);
        assertThat(set.body().path("allowedKinds").toString()).isEqualTo("[\"python:3\"]");
        Reply node = as(owner, "PUT", "/_/actions/js", NODE_ACTION);
        assertThat(node.status()).isEqualTo(403);
        assertThat(node.error()).contains("does not allow actions of kind 'nodejs:20'");
        assertThat(as(owner, "PUT", "/_/actions/py", "{\"exec\":{\"kind\":\"python:3\",\"code\":\"def main(a): return a\"}}").status())
                .isEqualTo(200);
        assertThat(as(owner, "PUT", "/_/actions/seq", "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/kinds/py\"]}}").status())
                .isEqualTo(200);
        JsonNode limits = as(owner, "GET", "/_/limits", null).body();
        assertThat(limits.path("allowedKinds").toString()).isEqualTo("[\"python:3\"]");
        assertThat(limits.path("storeActivations").asBoolean()).isTrue();
        assertThat(admin("PUT", "/kinds/policy", "{\"allowedKinds\":null}").body().path("allowedKinds").isNull()).isTrue();
        assertThat(as(owner, "PUT", "/_/actions/js", NODE_ACTION).status()).isEqualTo(200);

        // Activations are kept only while the policy says so.
        ArrayNode annotations = json.createArrayNode();
        api.activationStore().record(new ActivationRecord("kinds", "py", "py", "kinds", UUID.randomUUID().toString().replace("-", ""),
                1000, 1001, "0.0.1", 0, json.createObjectNode(), annotations, List.of(), Optional.empty()), 1 << 20);
        assertThat(as(owner, "GET", "/_/activations", null).body()).hasSize(1);
        admin("PUT", "/kinds/policy", "{\"storeActivations\":false}");
        api.activationStore().record(new ActivationRecord("kinds", "py", "py", "kinds", UUID.randomUUID().toString().replace("-", ""),
                2000, 2001, "0.0.1", 0, json.createObjectNode(), annotations, List.of(), Optional.empty()), 1 << 20);
        assertThat(as(owner, "GET", "/_/activations", null).body()).hasSize(1);

        assertThat(admin("PUT", "/kinds/policy", "{\"wings\":true}").error()).contains("Unknown policy field 'wings'");
        assertThat(admin("PUT", "/kinds/policy", "{\"storeActivations\":\"no\"}").status()).isEqualTo(400);
        assertThat(admin("PUT", "/kinds/policy", "{\"packageReaders\":[\"bad name!\"]}").status()).isEqualTo(400);
        assertThat(admin("PUT", "/kinds/policy", "[1]").status()).isEqualTo(400);
    }

    @Test
    void publishedPackagesAreReadAndInvokedOnlyByWhomThePolicyAllows() throws Exception {
        String alpha = namespace("alpha");
        String beta = namespace("beta");
        String gamma = namespace("gamma");
        assertThat(as(alpha, "PUT", "/_/packages/shared", "{\"publish\":true}").status()).isEqualTo(200);
        assertThat(as(alpha, "PUT", "/_/actions/shared/tool", NODE_ACTION).status()).isEqualTo(200);
        // By default, as in OpenWhisk, every namespace may read a published package.
        assertThat(as(beta, "GET", "/alpha/packages/shared", null).status()).isEqualTo(200);
        assertThat(as(beta, "GET", "/alpha/actions/shared/tool", null).status()).isEqualTo(200);
        assertThat(as(beta, "POST", "/alpha/actions/shared/tool", "{}").status()).isEqualTo(503);

        as(alpha, "PUT", "/_/policy", "{\"packageReaders\":[\"gamma\"],\"packageInvokers\":[\"gamma\"]}");
        assertThat(as(beta, "GET", "/alpha/packages/shared", null).status()).isEqualTo(403);
        assertThat(as(beta, "GET", "/alpha/actions/shared/tool", null).status()).isEqualTo(403);
        assertThat(as(beta, "GET", "/alpha/packages/shared", null).body().toString()).doesNotContain("tool");
        assertThat(as(gamma, "GET", "/alpha/packages/shared", null).status()).isEqualTo(200);
        assertThat(as(gamma, "POST", "/alpha/actions/shared/tool", "{}").status()).isEqualTo(503);
        // A binding in beta's own namespace does not get around the owner's policy.
        assertThat(as(beta, "PUT", "/_/packages/mine", "{\"binding\":{\"namespace\":\"alpha\",\"name\":\"shared\"}}").status())
                .isIn(400, 403);

        as(alpha, "PUT", "/_/policy", "{\"packageReaders\":[\"*\"],\"packageInvokers\":[\"gamma\"]}");
        assertThat(as(beta, "GET", "/alpha/actions/shared/tool", null).status()).isEqualTo(200);
        assertThat(as(beta, "POST", "/alpha/actions/shared/tool", "{}").status()).isEqualTo(403);
        assertThat(admin("DELETE", "/alpha", null).status()).isEqualTo(200);
        assertThat(admin("GET", "/alpha/policy", null).status()).isEqualTo(404);
    }

    @Test
    void theUtilsCatalogPackageIsSeededOnce() throws Exception {
        api.seedDevelopmentKeys();
        api.seedDevelopmentKeys();
        Reply pkg = as(OpenWhiskApi.GUEST_AUTH, "GET", "/whisk.system/packages/utils", null);
        assertThat(pkg.status()).isEqualTo(200);
        assertThat(pkg.body().path("publish").asBoolean()).isTrue();
        assertThat(pkg.body().path("actions").findValuesAsText("name")).containsExactlyInAnyOrder("echo", "sort");
        JsonNode sort = as(OpenWhiskApi.GUEST_AUTH, "GET", "/whisk.system/actions/utils/sort", null).body();
        assertThat(sort.path("exec").path("kind").asText()).startsWith("nodejs:");
        assertThat(sort.path("exec").path("code").asText()).contains("lines.sort()");
        assertThat(sort.path("namespace").asText()).isEqualTo("whisk.system/utils");
        assertThat(as(OpenWhiskApi.SYSTEM_AUTH, "GET", "/_/actions/utils/echo", null).status()).isEqualTo(200);
    }
}
