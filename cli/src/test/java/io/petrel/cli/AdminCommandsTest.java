package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin commands as an operator runs them, against a real local region: namespaces, several keys,
 * revocation seen by every zone within a second, limits, deletion, and the errors an operator meets.
 */
class AdminCommandsTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private Path data;
    private String ipPrefix;

    @BeforeEach
    void setUp() throws Exception {
        data = PetrelCli.freshDataDir("petrel-admin-test");
        ipPrefix = "127." + ThreadLocalRandom.current().nextInt(100, 250);
    }

    @AfterEach
    void tearDown() throws Exception {
        PetrelCli.downAndDelete(data);
    }

    @Test
    void namespacesKeysAndLimitsFromTheCommandLine() throws Exception {
        PetrelCli.Result up = PetrelCli.run("up", "--data", data.toString(), "--ip-prefix", ipPrefix);
        assertThat(up.code()).as(up.err()).isZero();
        assertThat(up.out()).contains("OpenWhisk API  http://" + ipPrefix + ".0.1:3233").contains("guest key");
        List<ZoneSpec> zones = RegionLayout.load(data).zones();
        String d = data.toString();

        JsonNode created = json(PetrelCli.run("ns", "create", "acme", "--data", d, "--json"));
        String first = created.path("auth").asText();
        assertThat(first).matches("[0-9a-f-]{36}:[0-9A-Za-z]{64}");
        for (ZoneSpec z : zones) {
            assertThat(get(z.apiUrl() + "/api/v1/namespaces", first).body()).isEqualTo("[\"acme\"]");
        }
        PetrelCli.Result table = PetrelCli.run("ns", "create", "globex", "--data", d);
        assertThat(table.out()).contains("namespace globex created").contains("auth ");

        String second = json(PetrelCli.run("key", "create", "acme", "--data", d, "--json")).path("auth").asText();
        String secondUuid = second.substring(0, second.indexOf(':'));
        JsonNode keys = json(PetrelCli.run("key", "list", "acme", "--data", d, "--json"));
        assertThat(keys).hasSize(2);
        assertThat(keys.toString()).contains(secondUuid).doesNotContain(second.substring(37));
        assertThat(PetrelCli.run("key", "list", "acme", "--data", d).out()).contains("UUID").contains(secondUuid);

        String shared = "http://" + ipPrefix + ".0.1:3233";
        JsonNode readerKey = json(PetrelCli.run("key", "create", "acme", "--role", "reader", "--data", d, "--json"));
        assertThat(readerKey.path("role").asText()).isEqualTo("reader");
        assertThat(put(shared + "/api/v1/namespaces/_/actions/nope", readerKey.path("auth").asText(),
                "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"}}").statusCode()).isEqualTo(403);
        assertThat(PetrelCli.run("key", "list", "acme", "--data", d).out()).contains("ROLE").contains("reader").contains("developer");
        PetrelCli.run("key", "revoke", "acme", readerKey.path("uuid").asText(), "--data", d);
        assertThat(PetrelCli.run("key", "create", "acme", "--role", "root", "--data", d).err()).contains("Unknown key role 'root'");

        JsonNode policy = json(PetrelCli.run("policy", "set", "acme", "--allowed-kinds", "python:3,nodejs:20", "--package-readers", "globex", "--data", d));
        assertThat(policy.path("allowedKinds").toString()).isEqualTo("[\"python:3\",\"nodejs:20\"]");
        assertThat(json(PetrelCli.run("policy", "get", "acme", "--data", d)).path("packageReaders").toString()).isEqualTo("[\"globex\"]");
        assertThat(put(shared + "/api/v1/namespaces/_/actions/java", second,
                "{\"exec\":{\"kind\":\"java:21\",\"main\":\"Hello\",\"code\":\"x\"}}").statusCode()).isEqualTo(403);
        assertThat(json(PetrelCli.run("policy", "set", "acme", "--allowed-kinds", "any", "--data", d)).path("allowedKinds").isNull()).isTrue();
        assertThat(PetrelCli.run("policy", "set", "acme", "--data", d).err()).contains("nothing to change");
        assertThat(put(shared + "/api/v1/namespaces/_/actions/hello", second,
                "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){return {}}\"}}").statusCode()).isEqualTo(200);

        // Revoke the second key; every zone must refuse it within a second, the first key goes on working.
        PetrelCli.Result revoked = PetrelCli.run("key", "revoke", "acme", secondUuid, "--data", d);
        assertThat(revoked.code()).as(revoked.err()).isZero();
        long revokedAt = System.nanoTime();
        List<CompletableFuture<Long>> refusedAfter = new ArrayList<>();
        for (ZoneSpec z : zones) {
            refusedAfter.add(CompletableFuture.supplyAsync(() -> {
                while (System.nanoTime() - revokedAt < Duration.ofSeconds(10).toNanos()) {
                    if (get(z.apiUrl() + "/api/v1/namespaces/_/actions", second).statusCode() == 401) {
                        return (System.nanoTime() - revokedAt) / 1_000_000;
                    }
                    sleep(10);
                }
                return Long.MAX_VALUE;
            }));
        }
        for (int i = 0; i < zones.size(); i++) {
            long ms = refusedAfter.get(i).join();
            System.out.printf("MEASURED revoked key refused by zone %s after %d ms%n", zones.get(i).zone(), ms);
            assertThat(ms).as("zone %s refuses the revoked key", zones.get(i).zone()).isLessThan(1_000);
            assertThat(get(zones.get(i).apiUrl() + "/api/v1/namespaces/_/actions/hello", first).statusCode()).isEqualTo(200);
        }
        assertThat(json(PetrelCli.run("key", "list", "acme", "--data", d, "--json"))).hasSize(1);

        JsonNode limits = json(PetrelCli.run("limits", "set", "acme", "concurrentInvocations=5", "artifactQuotaBytes=1048576", "--data", d, "--json"));
        assertThat(limits.path("concurrentInvocations").asLong()).isEqualTo(5);
        JsonNode seen = json.readTree(get(shared + "/api/v1/namespaces/_/limits", first).body());
        assertThat(seen.path("concurrentInvocations").asLong()).isEqualTo(5);
        assertThat(seen.path("invocationsPerMinute").asLong()).isEqualTo(60);
        assertThat(PetrelCli.run("limits", "get", "acme", "--data", d).out()).contains("artifactQuotaBytes").contains("1048576");

        JsonNode all = json(PetrelCli.run("ns", "list", "--data", d, "--json"));
        assertThat(all.findValuesAsText("name")).contains("acme", "globex", "guest");
        assertThat(PetrelCli.run("ns", "list", "--data", d).out()).contains("NAMESPACE").contains("acme");
        assertThat(json(PetrelCli.run("ns", "get", "acme", "--data", d)).path("limits").path("concurrentInvocations").asLong()).isEqualTo(5);

        // Errors an operator meets: a clear message and a non-zero exit, nothing changed.
        PetrelCli.Result bad = PetrelCli.run("ns", "create", "no spaces!", "--data", d);
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("is not valid");
        PetrelCli.Result dup = PetrelCli.run("ns", "create", "acme", "--data", d);
        assertThat(dup.code()).isNotZero();
        assertThat(dup.err()).contains("already exists");
        Path wrongKey = data.resolve("wrong.key");
        Files.writeString(wrongKey, "not-the-admin-key");
        PetrelCli.Result refused = PetrelCli.run("ns", "list", "--data", d, "--admin-key-file", wrongKey.toString());
        assertThat(refused.code()).isNotZero();
        assertThat(refused.err()).contains("admin key was refused");
        PetrelCli.Result nobody = PetrelCli.run("ns", "list", "--data", d, "--api", "http://127.0.0.1:1");
        assertThat(nobody.code()).isNotZero();
        assertThat(nobody.err()).contains("connection refused").contains("./petrel up");
        PetrelCli.Result missing = PetrelCli.run("key", "revoke", "acme", "00000000-0000-0000-0000-000000000000", "--data", d);
        assertThat(missing.code()).isNotZero();
        assertThat(missing.err()).contains("not found");
        PetrelCli.Result badLimit = PetrelCli.run("limits", "set", "acme", "wings=2", "--data", d);
        assertThat(badLimit.code()).isNotZero();
        assertThat(badLimit.err()).contains("Unknown limit 'wings'");
        assertThat(get(shared + "/api/v1/namespaces/_/actions/hello", first).statusCode()).isEqualTo(200);

        // Deleting a namespace removes its keys and its data: a namespace made again under that name starts empty.
        assertThat(PetrelCli.run("ns", "delete", "acme", "--data", d).out()).contains("namespace acme deleted");
        for (ZoneSpec z : zones) {
            assertThat(get(z.apiUrl() + "/api/v1/namespaces", first).statusCode()).isEqualTo(401);
        }
        String again = json(PetrelCli.run("ns", "create", "acme", "--data", d, "--json")).path("auth").asText();
        assertThat(get(shared + "/api/v1/namespaces/_/actions", again).body()).isEqualTo("[]");
    }

    private HttpResponse<String> get(String url, String auth) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET(), auth);
    }

    private HttpResponse<String> put(String url, String auth, String body) {
        return send(HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json"), auth);
    }

    private HttpResponse<String> send(HttpRequest.Builder b, String auth) {
        b.timeout(Duration.ofSeconds(10)).header("Authorization", "Basic "
                + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }


    private JsonNode json(PetrelCli.Result r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        return json.readTree(r.out());
    }

}
