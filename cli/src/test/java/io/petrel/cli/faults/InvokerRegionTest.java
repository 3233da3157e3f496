package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The invokers of a real three-zone region as a whole: namespace throttles that hold region-wide,
 * placement on another zone when one is full and 503 when all are, and a zone killed with SIGKILL
 * while actions run there (the others carry on; its accepted activations are recorded as lost).
 * Each zone gets 512 MB for containers and no prewarmed ones, so that a few actions fill it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InvokerRegionTest {
    private static final long CAPACITY_WAIT_MS = 4_000;
    private RegionHarness region;
    private Tenant tenant;

    @BeforeAll
    void startRegion() throws Exception {
        // A full region queues an activation for 4 s before the 503 (10 s by default), so that a test can see both.
        region = RegionHarness.start(Map.of("invoker.memory.mb", "512", "invoker.prewarm", "nodejs:default=0",
                "invoker.capacity.wait.ms", String.valueOf(CAPACITY_WAIT_MS)));
        tenant = Tenant.create(region, "busy");
        Tenant.limits(region, "busy", "{\"invocationsPerMinute\":100000,\"concurrentInvocations\":1000}");
        put("hold", "function main(p) { return new Promise(r => setTimeout(() => r({held: p.ms}), p.ms)); }", 256);
        put("quick", "function main(p) { return {ok: true}; }", 128);
    }

    @AfterAll
    void stopRegion() throws Exception {
        if (region != null) {
            region.close();
        }
    }

    private String url(String zone, String path) {
        return region.spec(zone).apiUrl() + "/api/v1/namespaces/" + tenant.namespace + path;
    }

    private void put(String name, String code, int memory) throws Exception {
        Tenant.Answer r = tenant.call("PUT", url("a", "/actions/" + name + "?overwrite=true"), "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":"
                + Tenant.json().writeValueAsString(code) + "},\"limits\":{\"memory\":" + memory + ",\"timeout\":60000}}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    private JsonNode activation(String zone, String id, Duration within) {
        AtomicReference<JsonNode> found = new AtomicReference<>();
        await().atMost(within).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            Tenant.Answer r = tenant.call("GET", url(zone, "/activations/" + id), null);
            if (r.status() == 200) {
                found.set(r.json());
            }
            return found.get() != null;
        });
        return found.get();
    }

    @Test
    @Order(1)
    void aNamespaceThrottleHoldsRegionWide() throws Exception {
        Tenant.limits(region, "busy", "{\"invocationsPerMinute\":30}");
        // Stay inside one minute: the limit is per minute.
        long secondOfMinute = (System.currentTimeMillis() / 1000) % 60;
        if (secondOfMinute > 45) {
            Thread.sleep((61 - secondOfMinute) * 1000);
        }
        Thread.sleep(2_500); // the zones' cached limits (2 s) see the new one
        int accepted = 0;
        int throttled = 0;
        String message = "";
        List<String> zones = List.of("a", "b", "c");
        for (int i = 0; i < 45; i++) {
            Tenant.Answer r = tenant.call("POST", url(zones.get(i % 3), "/actions/quick"), "{}");
            if (r.status() == 202) {
                accepted++;
            } else {
                assertThat(r.status()).as(r.body()).isEqualTo(429);
                throttled++;
                message = r.json().path("error").asText();
            }
        }
        System.out.printf("MEASURED throttle of 30 invocations per minute over 3 zones: %d accepted, %d refused with 429%n", accepted, throttled);
        assertThat(accepted).as("within 10%% of the limit, never above it").isBetween(27, 30);
        assertThat(message).startsWith("Too many requests in the last minute (count: ").endsWith("allowed: 30).");
        Tenant.limits(region, "busy", "{\"invocationsPerMinute\":100000}");
        Thread.sleep(2_500);
    }

    @Test
    @Order(2)
    void aFullZonePlacesOnAnotherAndAFullRegionQueuesThenAnswers503() throws Exception {
        List<String> ids = new ArrayList<>();
        // 3 zones x 512 MB: six 256 MB actions fill the region for 6 s; all are sent to zone a.
        for (int i = 0; i < 6; i++) {
            Tenant.Answer r = tenant.call("POST", url("a", "/actions/hold"), "{\"ms\":6000}");
            assertThat(r.status()).as("activation " + i + ": " + r.body()).isEqualTo(202);
            ids.add(r.json().path("activationId").asText());
        }
        long asked = System.nanoTime();
        Tenant.Answer full = tenant.call("POST", url("a", "/actions/hold?blocking=true"), "{\"ms\":10}");
        long refusedAfterMs = (System.nanoTime() - asked) / 1_000_000;
        assertThat(full.status()).as(full.body()).isEqualTo(503);
        assertThat(full.json().path("error").asText()).contains("no capacity");
        assertThat(refusedAfterMs).as("ms the activation waited for room before the 503").isGreaterThanOrEqualTo(CAPACITY_WAIT_MS - 100);
        // The holds end about 6 s after they began; one that asks about 4 s in waits for the first container to be free.
        long waitStarted = System.nanoTime();
        Tenant.Answer queued = tenant.call("POST", url("a", "/actions/hold?blocking=true&result=true"), "{\"ms\":10}");
        long waitedMs = (System.nanoTime() - waitStarted) / 1_000_000;
        System.out.printf("MEASURED a full region refused an activation after %d ms (capacity wait %d ms); one that came later waited "
                + "%d ms for a container and ran%n", refusedAfterMs, CAPACITY_WAIT_MS, waitedMs);
        assertThat(queued.status()).as("queued until a container was free: " + queued.body()).isEqualTo(200);
        for (String id : ids) {
            JsonNode done = activation("a", id, Duration.ofSeconds(30));
            assertThat(done.path("response").path("success").asBoolean()).as(done.toString()).isTrue();
            assertThat(done.path("response").path("result").path("held").asInt()).isEqualTo(6000);
        }
        Tenant.Answer again = tenant.call("POST", url("a", "/actions/hold?blocking=true&result=true"), "{\"ms\":10}");
        assertThat(again.status()).as("the region has room again: " + again.body()).isEqualTo(200);
    }

    @Test
    @Order(3)
    void aKilledZonesActivationsAreRecordedAsLostAndTheOthersRunOn() throws Exception {
        List<String> lost = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Tenant.Answer r = tenant.call("POST", url("b", "/actions/hold"), "{\"ms\":30000}");
            assertThat(r.status()).as(r.body()).isEqualTo(202);
            lost.add(r.json().path("activationId").asText());
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Map<String, Integer> survivors = new ConcurrentHashMap<>();
        List<Future<?>> running = new CopyOnWriteArrayList<>();
        for (String zone : List.of("a", "c")) {
            running.add(pool.submit(() -> {
                Tenant.Answer r = tenant.call("POST", url(zone, "/actions/hold?blocking=true&result=true"), "{\"ms\":3000}");
                survivors.put(zone, r.status());
                return null;
            }));
        }
        Thread.sleep(1_000);
        long killedAt = System.nanoTime();
        assertThat(region.zone("b").kill()).isTrue();
        for (Future<?> f : running) {
            f.get();
        }
        pool.shutdown();
        assertThat(survivors).as("actions running in the other zones finish").containsEntry("a", 200).containsEntry("c", 200);
        for (String id : lost) {
            JsonNode record = activation("a", id, Duration.ofSeconds(60));
            assertThat(record.path("response").path("status").asText()).isEqualTo("whisk internal error");
            assertThat(record.path("response").path("result").path("error").asText())
                    .isEqualTo("The activation was lost with zone b: the zone failed while the action ran, and the action may have run.");
        }
        System.out.printf("MEASURED zone b killed with 2 accepted activations running: both recorded as lost %d ms after the kill%n",
                (System.nanoTime() - killedAt) / 1_000_000);
        Tenant.Answer after = tenant.call("POST", url("c", "/actions/quick?blocking=true&result=true"), "{}");
        assertThat(after.status()).as(after.body()).isEqualTo(200);
    }
}
