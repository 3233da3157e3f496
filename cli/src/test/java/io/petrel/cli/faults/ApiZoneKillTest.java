package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The OpenWhisk API of a three-zone region (real processes) while a zone is killed with SIGKILL. */
class ApiZoneKillTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ObjectMapper json = new ObjectMapper();

    private HttpResponse<String> send(String method, String url, String auth, String body, String requestId) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (auth.startsWith("Bearer ")) {
            b.header("Authorization", auth);
        } else {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
        }
        if (requestId != null) {
            b.header("X-Request-ID", requestId);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String action(String code) {
        return "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"" + code + "\"}}";
    }

    private String createNamespace(RegionHarness region) throws Exception {
        String admin = "Bearer " + Files.readString(region.region().layout().adminKeyFile()).trim();
        String url = region.spec("a").apiUrl() + "/admin/v1/namespaces";
        String[] auth = new String[1];
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            HttpResponse<String> r = send("POST", url, admin, "{\"name\":\"tenant\"}", null);
            if (r.statusCode() == 201) {
                auth[0] = json.readTree(r.body()).path("auth").asText();
            }
            return auth[0] != null;
        });
        return auth[0];
    }

    @Test
    void requestsToLiveZonesSucceedAndRetriedWritesApplyOnce() throws Exception {
        try (RegionHarness region = RegionHarness.start(Map.of())) {
            String auth = createNamespace(region);
            String leader = region.leader();
            List<String> zones = region.zones();

            // Two clients per zone, each going through a cycle of entity operations on its own zone.
            AtomicBoolean running = new AtomicBoolean(true);
            Map<String, String> acknowledged = new ConcurrentHashMap<>();
            AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
            List<String> liveZoneFailures = new CopyOnWriteArrayList<>();
            AtomicLong liveRequestsAfterKill = new AtomicLong();
            List<Thread> clients = new ArrayList<>();
            for (String zone : zones) {
                for (int c = 0; c < 2; c++) {
                    String base = region.spec(zone).apiUrl() + "/api/v1/namespaces/_";
                    String id = zone + c;
                    clients.add(Thread.ofPlatform().name("client-" + id).start(() -> {
                        for (int i = 0; running.get(); i++) {
                            String name = "act-" + id + "-" + i;
                            long started = System.nanoTime();
                            try {
                                check(send("PUT", base + "/actions/" + name, auth, action("v" + i), null), 200, name);
                                acknowledged.put(name, "v" + i);
                                check(send("GET", base + "/actions/" + name, auth, null, null), 200, name);
                                check(send("PUT", base + "/actions/" + name + "?overwrite=true", auth, "{\"parameters\":[{\"key\":\"i\",\"value\":" + i + "}]}", null), 200, name);
                                check(send("PUT", base + "/triggers/t-" + name, auth, "{}", null), 200, name);
                                check(send("DELETE", base + "/triggers/t-" + name, auth, null, null), 200, name);
                                if (started > killedAt.get()) {
                                    liveRequestsAfterKill.addAndGet(5);
                                }
                            } catch (Exception e) {
                                boolean zoneKilled = zone.equals(leader) && killedAt.get() != Long.MAX_VALUE;
                                if (!zoneKilled) {
                                    liveZoneFailures.add(zone + ": " + e.getMessage());
                                }
                                if (zoneKilled) {
                                    return;
                                }
                            }
                        }
                    }));
                }
            }
            Thread.sleep(3_000);
            killedAt.set(System.nanoTime());
            assertThat(region.zone(leader).kill()).isTrue();
            Thread.sleep(6_000);
            running.set(false);
            for (Thread t : clients) {
                t.join(60_000);
            }
            System.out.printf("MEASURED API under a zone kill: %d entities acknowledged, %d requests to live zones after killing %s, failures on live zones: %s%n",
                    acknowledged.size(), liveRequestsAfterKill.get(), leader, liveZoneFailures);
            assertThat(liveZoneFailures).as("requests to live zones").isEmpty();
            assertThat(liveRequestsAfterKill.get()).as("live zones served after the kill").isPositive();

            String live = zones.stream().filter(z -> !z.equals(leader)).findFirst().orElseThrow();
            String liveBase = region.spec(live).apiUrl() + "/api/v1/namespaces/_";
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                HttpResponse<String> r = send("GET", liveBase + "/actions/" + e.getKey(), auth, null, null);
                assertThat(r.statusCode()).as("acknowledged action %s", e.getKey()).isEqualTo(200);
                assertThat(json.readTree(r.body()).path("exec").path("code").asText()).isEqualTo(e.getValue());
            }

            // A write whose zone is killed mid-request, retried on another zone with the same request id, applies once.
            region.region().start(leader);
            region.region().awaitReady(Duration.ofSeconds(60));
            check(send("PUT", liveBase + "/actions/target", auth, action("t"), null), 200, "target");
            for (int round = 0; round < 2; round++) {
                String victim = region.leader();
                List<String> others = zones.stream().filter(z -> !z.equals(victim)).toList();
                String other = others.get(0);
                String otherBase = region.spec(other).apiUrl() + "/api/v1/namespaces/_";
                String before = json.readTree(send("GET", otherBase + "/actions/target", auth, null, null).body()).path("version").asText();
                String requestId = "kill-mid-request-" + round + "-" + System.nanoTime();
                String victimUrl = region.spec(victim).apiUrl() + "/api/v1/namespaces/_/actions/target?overwrite=true";
                CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> {
                    try {
                        return send("PUT", victimUrl, auth, "{\"parameters\":[{\"key\":\"round\",\"value\":" + System.nanoTime() + "}]}", requestId);
                    } catch (Exception e) {
                        return null;
                    }
                });
                Thread.sleep(round == 0 ? 0 : 15);
                region.zone(victim).kill();
                HttpResponse<String> first = inFlight.get();
                // As the gateway does: the same request id again while the surviving zones elect a leader (503).
                long retryStart = System.nanoTime();
                HttpResponse<String> retry = sendWaitingOutElection("PUT", otherBase + "/actions/target?overwrite=true", auth,
                        "{\"parameters\":[{\"key\":\"round\",\"value\":-1}]}", requestId);
                assertThat(retry.statusCode()).as("retry on zone %s: %s", other, retry.body()).isEqualTo(200);
                HttpResponse<String> read = sendWaitingOutElection("GET", otherBase + "/actions/target", auth, null, null);
                assertThat(read.statusCode()).as("GET after the retry: %s", read.body()).isEqualTo(200);
                String after = json.readTree(read.body()).path("version").asText();
                int bumps = patch(after) - patch(before);
                System.out.printf("MEASURED round %d: zone %s killed mid-request (first attempt: %s), retry on %s answered %s after %.1f s, version %s -> %s%n",
                        round, victim, first == null ? "no answer" : first.statusCode(), other, json.readTree(retry.body()).path("version").asText(),
                        (System.nanoTime() - retryStart) / 1e9, before, after);
                assertThat(bumps).as("the write applied exactly once").isEqualTo(1);
                region.region().start(victim);
                region.region().awaitReady(Duration.ofSeconds(60));
            }
        }
    }

    /** A request that, as the gateway would, is sent again while the surviving zones elect a leader (503), for up to 20 s. */
    private HttpResponse<String> sendWaitingOutElection(String method, String url, String auth, String body, String requestId) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r;
        do {
            r = send(method, url, auth, body, requestId);
        } while (r.statusCode() == 503 && System.nanoTime() - start < Duration.ofSeconds(20).toNanos());
        return r;
    }

    private static int patch(String version) {
        return Integer.parseInt(version.substring(version.lastIndexOf('.') + 1));
    }

    private static void check(HttpResponse<String> r, int expected, String what) {
        if (r.statusCode() != expected) {
            throw new IllegalStateException(what + ": HTTP " + r.statusCode() + " " + r.body());
        }
    }

}
