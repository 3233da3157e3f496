package io.petrel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The proxy's rules, one by one, with a real gateway in front of three scripted zone servers. */
class GatewayProxyTest {
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private List<ScriptedZone> zones;
    private Gateway gateway;
    private String base;

    @BeforeEach
    void start() throws Exception {
        zones = List.of(new ScriptedZone("a"), new ScriptedZone("b"), new ScriptedZone("c"));
        GatewayConfig config = new GatewayConfig("test", "petrel.internal", "g1", List.of(new HostPort("127.0.0.1", 0)),
                new HostPort("127.0.0.1", 0), List.of(new HostPort("127.0.0.1", 0)), zones.stream().map(ScriptedZone::target).toList(),
                List.of(), Optional.of("a"),
                new GatewayConfig.Health(Duration.ofMillis(50), Duration.ofMillis(500), 2, 1, 3, Duration.ofSeconds(5)),
                new GatewayConfig.Proxy(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), 6,
                        1 << 20, 32, 256, 16 * 1024, Duration.ofSeconds(10), Duration.ofSeconds(2)));
        gateway = Gateway.start(config);
        base = "http://127.0.0.1:" + gateway.port(0);
        awaitRoutable("a", "b", "c");
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        for (ScriptedZone z : zones) {
            z.close();
        }
    }

    @Test
    void streamsLargeBodiesBothWaysAndKeepsHeaders() throws Exception {
        byte[] big = new byte[24 * 1024 * 1024];
        new Random(7).nextBytes(big);
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/_/artifacts/big.bin"))
                .header("X-Custom", "kept").PUT(HttpRequest.BodyPublishers.ofByteArray(big)).build(), HttpResponse.BodyHandlers.ofInputStream());
        byte[] back;
        try (InputStream in = r.body()) {
            back = in.readAllBytes();
        }
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(sha(back)).isEqualTo(sha(big));
        assertThat(r.headers().firstValue("X-Echo-Custom")).hasValue("kept");
        assertThat(r.headers().allValues("Set-Cookie")).containsExactly("a=1", "b=2");
        assertThat(r.headers().firstValue("X-Petrel-Zone")).as("home zone first").hasValue("a");
        assertThat(r.headers().firstValue("X-Petrel-Gateway")).hasValue("g1");
        assertThat(r.headers().firstValue("X-Request-ID")).as("the gateway gives every request an id").isPresent();
        assertThat(zones.get(0).requestIds).containsExactly(r.headers().firstValue("X-Request-ID").orElseThrow());
    }

    @Test
    void answersWithoutContentAreRelayedToo() throws Exception {
        HttpResponse<String> head = send("HEAD", "/api/v1/namespaces/_/artifacts/m.bin", null, null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("X-Echo-Method")).hasValue("HEAD");
        assertThat(head.body()).isEmpty();
        HttpResponse<String> empty = send("DELETE", "/api/v1/namespaces/_/rules/r", null, null);
        assertThat(empty.statusCode()).isEqualTo(200);
        assertThat(empty.headers().firstValue("Content-Length")).hasValue("0");
        assertThat(empty.body()).isEmpty();
    }

    @Test
    void aWriteCutOffInAZoneIsRetriedElsewhereWithTheSameRequestId() throws Exception {
        zones.get(0).mode = ScriptedZone.Mode.CUT_AFTER_READING;
        HttpResponse<String> r = send("PUT", "/api/v1/namespaces/_/actions/x", "{\"exec\":{}}", "req-1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"exec\":{}}");
        assertThat(zones.get(0).requestIds).containsExactly("req-1");
        assertThat(zones.get(1).requestIds.size() + zones.get(2).requestIds.size()).isEqualTo(1);
        assertThat(zones.get(1).requestIds.isEmpty() ? zones.get(2).requestIds : zones.get(1).requestIds).containsExactly("req-1");
    }

    @Test
    void anInvocationThatReachedAZoneIsNotRetriedAndTheErrorNamesTheZone() throws Exception {
        zones.get(0).mode = ScriptedZone.Mode.CUT_AFTER_READING;
        HttpResponse<String> r = send("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", "{}", null);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.headers().firstValue("X-Petrel-Zone")).hasValue("a");
        assertThat(json.readTree(r.body()).path("error").asText()).contains("zone a").contains("not retried");
        assertThat(zones.get(1).requestIds).isEmpty();
        assertThat(zones.get(2).requestIds).isEmpty();
    }

    @Test
    void anAnswerThatBreaksBeforeAnyOfItWasRelayedIsRetriedOrExplainedNeverABare500() throws Exception {
        zones.get(0).mode = ScriptedZone.Mode.CUT_AFTER_HEADERS;
        HttpResponse<String> read = send("GET", "/api/v1/namespaces/_/actions/x", null, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.headers().firstValue("X-Petrel-Zone")).isNotEqualTo(Optional.of("a"));
        HttpResponse<String> write = send("PUT", "/api/v1/namespaces/_/actions/x", "{\"exec\":{}}", "req-2");
        assertThat(write.statusCode()).as(write.body()).isEqualTo(200);
        assertThat(write.headers().firstValue("X-Request-ID")).hasValue("req-2");
        assertThat(write.body()).isEqualTo("{\"exec\":{}}");

        zones.forEach(z -> z.mode = ScriptedZone.Mode.CUT_AFTER_HEADERS);
        HttpResponse<String> invoke = send("POST", "/api/v1/namespaces/_/actions/hello?blocking=true", "{}", null);
        assertThat(invoke.statusCode()).isEqualTo(502);
        assertThat(json.readTree(invoke.body()).path("error").asText()).contains("zone").contains("not retried");
        assertThat(invoke.headers().firstValue("X-Petrel-Gateway")).hasValue("g1");
    }

    @Test
    void aDrainingZoneLeavesTheRotationButTheRequestsItHoldsAreAnswered() throws Exception {
        ScriptedZone a = zones.get(0);
        a.mode = ScriptedZone.Mode.HOLD;
        java.util.concurrent.CompletableFuture<HttpResponse<String>> held = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return send("PUT", "/api/v1/namespaces/_/actions/held", "{\"exec\":{}}", "req-held");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(a.held.tryAcquire(5, java.util.concurrent.TimeUnit.SECONDS)).as("the write waits in zone a").isTrue();
        a.ready = false;
        await().atMost(Duration.ofSeconds(5)).until(() -> !zoneStatus("a").path("routable").asBoolean());
        a.mode = ScriptedZone.Mode.SERVE;
        a.release.countDown();
        HttpResponse<String> r = held.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Petrel-Zone")).as("answered by the draining zone that held it").hasValue("a");
        assertThat(a.requestIds).containsExactly("req-held");
    }

    @Test
    void readsAreRetriedOn503AndAnInvocationsAnswerIsPassedOn() throws Exception {
        zones.get(0).mode = ScriptedZone.Mode.ANSWER_503;
        HttpResponse<String> read = send("GET", "/api/v1/namespaces/_/actions/x", null, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.headers().firstValue("X-Petrel-Zone")).isNotEqualTo(Optional.of("a"));
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).contains("petrel_gateway_retries_total{gateway=\"g1\",kind=\"read\",reason=\"status_503\"}");
        zones.forEach(z -> z.mode = ScriptedZone.Mode.ANSWER_503);
        HttpResponse<String> invoke = send("POST", "/api/v1/namespaces/_/actions/hello", "{}", null);
        assertThat(invoke.statusCode()).isEqualTo(503);
        int attempts = zones.stream().mapToInt(z -> (int) z.requestIds.stream().filter(id -> id.equals(invoke.headers()
                .firstValue("X-Request-ID").orElseThrow())).count()).sum();
        assertThat(attempts).as("an invocation is sent once").isEqualTo(1);
    }

    @Test
    void zonesThatFailAreEjectedAndDrainingZonesLeaveTheRotation() throws Exception {
        zones.get(0).mode = ScriptedZone.Mode.ANSWER_500;
        HttpResponse<String> last = null;
        for (int i = 0; i < 10; i++) {
            last = send("GET", "/api/v1/namespaces/_/actions/x", null, null);
        }
        assertThat(zoneStatus("a").path("ejected").asBoolean()).as("the home zone answered 500 three times in a row").isTrue();
        assertThat(last.statusCode()).isEqualTo(200);
        assertThat(last.headers().firstValue("X-Petrel-Zone")).isNotEqualTo(Optional.of("a"));
        zones.get(2).ready = false;
        await().atMost(Duration.ofSeconds(5)).until(() -> !zoneStatus("c").path("routable").asBoolean());
        assertThat(zoneStatus("c").path("reason").asText()).contains("draining");
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("petrel_gateway_ejections_total{gateway=\"g1\",reason=\"failures\",zone=\"a\"} 1.0")
                .contains("petrel_gateway_zone_up{gateway=\"g1\",zone=\"c\"} 0.0");
    }

    @Test
    void whenNoZoneAnswersTheErrorSaysWhyForEachZone() throws Exception {
        for (ScriptedZone z : zones) {
            z.close();
        }
        HttpResponse<String> r = send("GET", "/api/v1/namespaces/_/actions/x", null, null);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(json.readTree(r.body()).path("error").asText()).contains("zone a: connection refused").contains("zone b").contains("zone c");
    }

    private JsonNode zoneStatus(String zone) throws Exception {
        JsonNode s = json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + "/gateway/v1/status"))
                .build(), HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode z : s.path("zones")) {
            if (z.path("zone").asText().equals(zone)) {
                return z;
            }
        }
        throw new AssertionError("no zone " + zone + " in " + s);
    }

    private void awaitRoutable(String... names) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            for (String n : names) {
                if (!zoneStatus(n).path("routable").asBoolean()) {
                    return false;
                }
            }
            return true;
        });
    }

    private HttpResponse<String> send(String method, String path, String body, String requestId) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (requestId != null) {
            b.header("X-Request-ID", requestId);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
