package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.node.NodeConfig;
import io.petrel.node.ZoneNode;
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
import java.time.Instant;
import java.util.Base64;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code petrel ns restore NS --to-time T} against a real zone node that backs up into a directory: the
 * namespace comes back as it was at T (a deleted action returns, a later one goes), and another
 * namespace's later writes stay.
 */
class NamespaceRestoreTest {
    private static final String ADMIN = "namespace-restore-admin-key-0123456789abcdef";
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aNamespaceRestoredToATimeBeforeAnAccidentalDeleteIsBackAndOthersKeepTheirLaterWrites() throws Exception {
        Path dir = PetrelCli.freshDataDir("petrel-ns-restore");
        Files.writeString(dir.resolve("admin.key"), ADMIN);
        Properties p = new Properties();
        p.setProperty("region", "restore-test");
        p.setProperty("cluster.id", "c-" + System.nanoTime());
        p.setProperty("zone", "a");
        try (ServerSocket s = new ServerSocket(0)) {
            p.setProperty("peers", "a=127.0.0.1:" + s.getLocalPort());
        }
        p.setProperty("data", dir.resolve("zone").toString());
        p.setProperty("http", "127.0.0.1:0");
        p.setProperty("api", "127.0.0.1:0");
        p.setProperty("disk.reserve.bytes", "0");
        p.setProperty("drain.ms", "0");
        p.setProperty("admin.key.file", dir.resolve("admin.key").toString());
        p.setProperty("backup.target", dir.resolve("backups").toString());
        p.setProperty("backup.archive.interval.ms", "200");
        try (ZoneNode node = ZoneNode.start(NodeConfig.fromProperties(p))) {
            String api = "http://127.0.0.1:" + node.apiPort();
            String status = "http://127.0.0.1:" + node.httpPort() + "/admin/v1/backup";
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> send(api, "Bearer " + ADMIN, "GET", "/admin/v1/namespaces", null)
                    .statusCode() == 200);
            String acme = createNamespace(api, "acme");
            String other = createNamespace(api, "other");
            put(api, acme, "/actions/precious", action("precious"));
            put(api, acme, "/actions/kept", action("kept"));
            awaitArchived(status);
            Thread.sleep(500);
            Instant beforeTheAccident = Instant.now();
            Thread.sleep(500);
            assertThat(send(api, acme, "DELETE", "/api/v1/namespaces/_/actions/precious", null).statusCode()).isEqualTo(200);
            put(api, acme, "/actions/newer", action("newer"));
            put(api, other, "/actions/later", action("later"));
            awaitArchived(status);

            PetrelCli.Result dry = PetrelCli.run("ns", "restore", "acme", "--to-time", beforeTheAccident.toString(), "--dry-run", "--api", api,
                    "--auth", acme);
            System.out.print(dry.out() + dry.err());
            assertThat(dry.code()).as(dry.err()).isZero();
            assertThat(dry.out()).contains("dry run, nothing was changed").contains("actions/precious").contains("actions/newer");
            assertThat(send(api, acme, "GET", "/api/v1/namespaces/_/actions/precious", null).statusCode()).isEqualTo(404);

            long t0 = System.nanoTime();
            PetrelCli.Result restored = PetrelCli.run("ns", "restore", "acme", "--to-time", beforeTheAccident.toString(), "--api", api,
                    "--auth", acme);
            System.out.print(restored.out() + restored.err());
            System.out.printf("MEASURED petrel ns restore in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(restored.code()).as(restored.err()).isZero();
            assertThat(send(api, acme, "GET", "/api/v1/namespaces/_/actions/precious", null).body()).contains("precious");
            assertThat(send(api, acme, "GET", "/api/v1/namespaces/_/actions/kept", null).statusCode()).isEqualTo(200);
            assertThat(send(api, acme, "GET", "/api/v1/namespaces/_/actions/newer", null).statusCode()).isEqualTo(404);
            assertThat(send(api, other, "GET", "/api/v1/namespaces/_/actions/later", null).statusCode())
                    .as("another namespace's later write").isEqualTo(200);

            PetrelCli.Result tooEarly = PetrelCli.run("ns", "restore", "acme", "--to-time", "2001-01-01T00:00:00Z", "--api", api, "--auth", acme);
            assertThat(tooEarly.code()).isNotZero();
            assertThat(tooEarly.err()).contains("no restore point at 2001-01-01T00:00:00Z");
        } finally {
            PetrelCli.downAndDelete(dir);
        }
    }

    private void awaitArchived(String status) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            JsonNode s = json.readTree(http.send(HttpRequest.newBuilder(URI.create(status)).build(), HttpResponse.BodyHandlers.ofString()).body());
            return s.path("lastSnapshotIndex").asLong() >= 0 && s.path("unarchivedEntries").asLong() == 0;
        });
    }

    private HttpResponse<String> send(String api, String auth, String method, String path, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", auth.startsWith("Bearer ") ? auth : "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String createNamespace(String api, String ns) throws Exception {
        HttpResponse<String> r = send(api, "Bearer " + ADMIN, "POST", "/admin/v1/namespaces", ("{\"name\":\"" + ns + "\"}").getBytes());
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
        return json.readTree(r.body()).path("auth").asText();
    }

    private void put(String api, String auth, String path, String body) throws Exception {
        HttpResponse<String> r = send(api, auth, "PUT", "/api/v1/namespaces/_" + path, body.getBytes(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
    }

    private static String action(String name) {
        return "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main() { return {name: '" + name + "'} }\"}}";
    }
}
