package io.petrel.cli.faults;

import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Garbage on every port of every zone: clear errors where there is a protocol to answer in, and no harm. */
class GarbageTest {

    @Test
    void garbageOnTheHttpAndConsensusPortsHarmsNothing() throws Exception {
        try (RegionHarness region = RegionHarness.start(Map.of());
             RatisStore client = region.client(StoreTuning.DEFAULT)) {
            CatchUpTest.write(client, "garbage/", 100);
            long revision = client.revision();
            Random random = new Random(42);
            HttpClient http = HttpClient.newHttpClient();
            for (String zone : region.zones()) {
                var spec = region.spec(zone);
                for (int i = 0; i < 20; i++) {
                    byte[] junk = new byte[1 + random.nextInt(4096)];
                    random.nextBytes(junk);
                    sendRaw(spec.host(), spec.httpPort(), junk);
                    sendRaw(spec.host(), spec.raftPort(), junk);
                }
                assertThat(http.send(HttpRequest.newBuilder(URI.create(spec.httpUrl() + "/admin/v1/nothing")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
                HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(spec.httpUrl() + "/health/ready"))
                        .POST(HttpRequest.BodyPublishers.ofString("{")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(post.statusCode()).isEqualTo(405);
                assertThat(post.body()).contains("not allowed");
                String badRequest = rawExchange(spec.host(), spec.httpPort(), "GET /health/live HTTP/1.1\r\nHost: \u0001\r\nContent-Length: -5\r\n\r\n");
                assertThat(badRequest).startsWith("HTTP/1.1 400");
            }
            region.region().awaitReady(Duration.ofSeconds(30));
            assertThat(client.revision()).isEqualTo(revision);
            assertThat(client.get("garbage/7").orElseThrow().valueAsString()).isEqualTo("value 7");
            var digests = region.convergedDigests(Duration.ofSeconds(30));
            assertThat(digests.values().stream().map(d -> d.path("digest").asText()).distinct()).hasSize(1);
        }
    }

    private static void sendRaw(String host, int port, byte[] bytes) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            s.setSoTimeout(500);
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            s.getInputStream().read(new byte[1024]);
        } catch (java.io.IOException expected) {
            // The peer may close or reset: that is the right answer to garbage.
        }
    }

    private static String rawExchange(String host, int port, String request) throws Exception {
        try (Socket s = new Socket(host, port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            byte[] buf = new byte[256];
            int n = in.read(buf);
            return n <= 0 ? "" : new String(buf, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }
}
