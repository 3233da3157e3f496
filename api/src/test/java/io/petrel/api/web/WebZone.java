package io.petrel.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.OpenWhiskApi;
import io.petrel.api.entity.Runtimes;
import io.petrel.api.http.ApiServer;
import io.petrel.api.invoke.Throttle;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One zone's API with a {@link ScriptedRunner} as its invoker, over a real three-replica store in
 * this JVM, on a loopback port; and the HTTP calls the web action tests make to it.
 */
final class WebZone implements AutoCloseable {
    static final String ADMIN = "web-actions-test-admin-key-0123456789abcdef";
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final InProcessGroup group;
    private final RatisStore store;
    private final OpenWhiskApi api;
    private final ApiServer server;
    private final ScriptedRunner runner;

    /** An answer as received: status, headers and the body's bytes. */
    record Reply(int status, HttpResponse<byte[]> raw) {
        String text() {
            return new String(raw.body(), StandardCharsets.UTF_8);
        }

        JsonNode json() throws Exception {
            return new ObjectMapper().readTree(raw.body());
        }

        Optional<String> header(String name) {
            return raw.headers().firstValue(name);
        }

        List<String> headers(String name) {
            return raw.headers().allValues(name);
        }
    }

    WebZone() throws Exception {
        this.runner = new ScriptedRunner();
        this.group = new InProcessGroup(Files.createTempDirectory("petrel-web-actions"), 3, StoreTuning.DEFAULT);
        this.store = group.client();
        OpenWhiskApi.Config config = new OpenWhiskApi.Config("z0", Optional.of(ADMIN));
        this.api = new OpenWhiskApi(config, store, json, System::currentTimeMillis, Optional.empty(),
                new OpenWhiskApi.Execution(Runtimes.declared(), Optional.of(runner), limits -> Throttle.NONE, "test"));
        this.server = new ApiServer("z0", List.of(new ApiServer.Listen("127.0.0.1", 0, false)), api, json);
        server.start();
    }

    OpenWhiskApi api() {
        return api;
    }

    ScriptedRunner runner() {
        return runner;
    }

    String base() {
        return "http://127.0.0.1:" + server.port(0);
    }

    Reply send(String method, String path, Map<String, String> headers, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(r.statusCode(), r);
    }

    Reply send(String method, String path, Map<String, String> headers, String body) throws Exception {
        return send(method, path, headers, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    static String basic(String auth) {
        return "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
    }

    /** Calls the OpenWhisk API with a key ({@code uuid:key}). */
    Reply as(String auth, String method, String path, String body) throws Exception {
        return send(method, "/api/v1/namespaces" + path, Map.of("Authorization", basic(auth), "Content-Type", "application/json"), body);
    }

    /** Creates a namespace through the admin API; its first key (an admin key) comes back. */
    String namespace(String name) throws Exception {
        Reply r = send("POST", "/admin/v1/namespaces", Map.of("Authorization", "Bearer " + ADMIN, "Content-Type", "application/json"),
                "{\"name\":\"" + name + "\"}");
        if (r.status() != 201) {
            throw new IllegalStateException("namespace " + name + ": " + r.status() + " " + r.text());
        }
        return r.json().path("auth").asText();
    }

    @Override
    public void close() throws Exception {
        runner.close();
        server.close();
        api.close();
        store.close();
        group.close();
    }
}
