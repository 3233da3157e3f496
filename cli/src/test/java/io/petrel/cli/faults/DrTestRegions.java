package io.petrel.cli.faults;

import io.petrel.api.OpenWhiskApi;
import io.petrel.cli.PetrelCli;
import io.petrel.cli.dr.DrClient;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** What the disaster-recovery tests do to named regions: run {@code petrel}, write and read actions, wait for roles. */
final class DrTestRegions {
    private static final String AUTH = "Basic " + Base64.getEncoder().encodeToString(OpenWhiskApi.GUEST_AUTH.getBytes(StandardCharsets.UTF_8));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final DrClient dr = new DrClient();

    PetrelCli.Result run(String... args) {
        PetrelCli.Result r = PetrelCli.run(args);
        System.out.println("$ petrel " + String.join(" ", args) + " -> " + r.code() + "\n" + r.out() + r.err());
        assertThat(r.code()).as("petrel %s: %s", String.join(" ", args), r.err()).isZero();
        return r;
    }

    /** Stops region {@code name} under {@code home} if it was started (it has a region.json). */
    void downIfUp(java.nio.file.Path home, String name) {
        if (java.nio.file.Files.exists(home.resolve("regions").resolve(name).resolve("region.json"))) {
            run("down", "--region", name);
        }
    }

    void awaitRole(RegionLayout layout, String role, Duration timeout) throws InterruptedException {
        awaitTrue(() -> dr.leaderStatus(layout).map(s -> role.equals(s.path("role").asText())).orElse(false), timeout,
                "region " + layout.region() + " is " + role);
    }

    long lagOf(RegionLayout layout) {
        return dr.leaderStatus(layout).map(s -> s.path("lagEntries").asLong(-1)).orElse(-1L);
    }

    static void awaitTrue(CheckedCondition condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (Exception e) {
                // not yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what);
    }

    @FunctionalInterface
    interface CheckedCondition {
        boolean holds() throws Exception;
    }

    int put(RegionLayout region, String name) throws Exception {
        return putRaw(region, name).statusCode();
    }

    /** Creates (or replaces) action {@code name} through the first zone of {@code region} that answers. */
    HttpResponse<String> putRaw(RegionLayout region, String name) throws Exception {
        IOException last = null;
        for (ZoneSpec z : region.zones()) {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(z.apiUrl() + "/api/v1/namespaces/guest/actions/" + name + "?overwrite=true"))
                        .timeout(Duration.ofSeconds(10)).header("Authorization", AUTH).header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){return {}}\"}}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    /** The status of GET action {@code name} from the first zone of {@code region} that answers. */
    int get(RegionLayout region, String name) throws Exception {
        IOException last = null;
        for (ZoneSpec z : region.zones()) {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(z.apiUrl() + "/api/v1/namespaces/guest/actions/" + name))
                        .timeout(Duration.ofSeconds(5)).header("Authorization", AUTH).GET().build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode();
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    /** A zone's {@code /admin/v1/digest} as "digest@revision", or empty if it does not answer. */
    String digest(ZoneSpec z) {
        try {
            var r = http.send(HttpRequest.newBuilder(URI.create(z.httpUrl() + "/admin/v1/digest")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
            return node.path("digest").asText() + "@" + node.path("revision").asLong();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    static void deleteRecursively(java.nio.file.Path dir) throws IOException {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (var walk = java.nio.file.Files.walk(dir)) {
            for (var p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        }
    }
}
