package io.petrel.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.store.Expect;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A one-zone node in this JVM: its HTTP endpoints, its metrics, and its configuration errors. */
class ZoneNodeTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aNodeServesHealthStatusDigestAndMetrics() throws Exception {
        Path dir = Files.createTempDirectory("petrel-node-test");
        Properties p = new Properties();
        p.setProperty("region", "node-test");
        p.setProperty("zone", "a");
        p.setProperty("peers", "a=127.0.0.1:" + freePort());
        p.setProperty("data", dir.toString());
        p.setProperty("http", "127.0.0.1:0");
        p.setProperty("api", "127.0.0.1:0");
        p.setProperty("disk.reserve.bytes", "0");
        // The store's revision is counted below: no invoker, whose directory entry would be a write too.
        p.setProperty("invoker.enabled", "false");
        try (ZoneNode node = ZoneNode.start(NodeConfig.fromProperties(p))) {
            String base = "http://127.0.0.1:" + node.httpPort();
            assertThat(get(base + "/health/live").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/health/ready").statusCode() == 200);

            node.store().put("node-test/k", "v".getBytes(StandardCharsets.UTF_8), Expect.any());
            JsonNode status = json.readTree(get(base + "/admin/v1/status").body());
            assertThat(status.path("zone").asText()).isEqualTo("a");
            assertThat(status.path("role").asText()).isEqualTo("LEADER");
            assertThat(status.path("revision").asLong()).isEqualTo(1);
            assertThat(status.has("commitIndex")).isTrue();
            assertThat(status.has("appliedIndex")).isTrue();
            assertThat(json.readTree(get(base + "/admin/v1/digest").body()).path("digest").asText()).hasSize(64);

            String metrics = get(base + "/metrics").body();
            assertThat(metrics).contains("petrel_store_term{zone=\"a\"}").contains("petrel_store_is_leader{zone=\"a\"} 1.0")
                    .contains("petrel_store_leader_commit_latency_seconds_count{zone=\"a\"}")
                    .contains("petrel_store_commit_latency_seconds_count{zone=\"a\"} 1");
            assertThat(metrics).doesNotContain("NaN");

            HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(get(base + "/nothing").statusCode()).isEqualTo(404);
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void aBadConfigurationGetsAClearError() {
        Properties p = new Properties();
        p.setProperty("region", "r");
        p.setProperty("zone", "a");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p)).hasMessageContaining("missing 'peers'");
        p.setProperty("peers", "a=127.0.0.1");
        p.setProperty("data", "/tmp/x");
        p.setProperty("http", "127.0.0.1:1");
        p.setProperty("api", "127.0.0.1:0");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p)).hasMessageContaining("zone=host:port");
        p.setProperty("peers", "b=127.0.0.1:7100");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p).replica()).hasMessageContaining("not among the peers");
        p.setProperty("peers", "a=127.0.0.1:7100");
        p.setProperty("election.timeout.min.ms", "soon");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p)).hasMessageContaining("must be a number");
        p.setProperty("election.timeout.min.ms", "900");
        p.setProperty("election.timeout.max.ms", "500");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p)).hasMessageContaining("max must be above min");
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
