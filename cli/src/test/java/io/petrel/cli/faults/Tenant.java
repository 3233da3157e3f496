package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

import static org.awaitility.Awaitility.await;

/** A tenant of a test region: a namespace with its own key, and the HTTP calls a client makes with it. */
final class Tenant {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    record Answer(int status, String body, Optional<String> activationId) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (Exception e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }
    }

    final String namespace;
    final String auth;

    private Tenant(String namespace, String auth) {
        this.namespace = namespace;
        this.auth = auth;
    }

    /** Creates {@code name} through the admin API of zone a (retried until the store takes writes). */
    static Tenant create(RegionHarness region, String name) throws Exception {
        String admin = "Bearer " + Files.readString(region.region().layout().adminKeyFile()).trim();
        String url = region.spec("a").apiUrl() + "/admin/v1/namespaces";
        String[] auth = new String[1];
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            Answer r = send("POST", url, admin, "{\"name\":\"" + name + "\"}");
            if (r.status() == 201) {
                auth[0] = r.json().path("auth").asText();
            }
            return auth[0] != null;
        });
        return new Tenant(name, auth[0]);
    }

    /** Sets limit overrides of the namespace through the admin API. */
    static void limits(RegionHarness region, String ns, String limits) throws Exception {
        String admin = "Bearer " + Files.readString(region.region().layout().adminKeyFile()).trim();
        Answer r = send("PUT", region.spec("a").apiUrl() + "/admin/v1/namespaces/" + ns + "/limits", admin, limits);
        if (r.status() != 200) {
            throw new AssertionError("limits not set: " + r);
        }
    }

    String basic() {
        return "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
    }

    Answer call(String method, String url, String body) throws Exception {
        return send(method, url, basic(), body);
    }

    static Answer send(String method, String url, String authorization, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(90))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body(), r.headers().firstValue("x-openwhisk-activation-id"));
    }

    static ObjectMapper json() {
        return JSON;
    }
}
