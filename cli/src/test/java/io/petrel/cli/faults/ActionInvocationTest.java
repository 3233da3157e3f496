package io.petrel.cli.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Actions run on a real three-zone region (every zone its own JVM, every container its own OS
 * process) with OpenWhisk's invocation semantics: each kind, blocking and not, results, errors,
 * timeouts, parameters, sequences, rules and web actions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ActionInvocationTest {
    private static final ObjectMapper JSON = Tenant.json();
    private RegionHarness region;
    private Tenant tenant;
    private String base;

    @BeforeAll
    void startRegion() throws Exception {
        region = RegionHarness.startWithGateways(Map.of("invoker.enabled", "true"), 1);
        tenant = Tenant.create(region, "runner");
        base = region.spec("a").apiUrl() + "/api/v1/namespaces/runner";
    }

    @AfterAll
    void stopRegion() throws Exception {
        if (region != null) {
            region.close();
        }
    }

    private void put(String path, String body) throws Exception {
        Tenant.Answer r = tenant.call("PUT", base + path + "?overwrite=true", body);
        assertThat(r.status()).as(path + ": " + r.body()).isEqualTo(200);
    }

    private void action(String name, String kind, String code, String extra) throws Exception {
        put("/actions/" + name, "{\"exec\":{\"kind\":\"" + kind + "\",\"code\":" + JSON.writeValueAsString(code) + "}" + extra + "}");
    }

    private Tenant.Answer invoke(String zone, String name, String query, String body) throws Exception {
        String url = region.spec(zone).apiUrl() + "/api/v1/namespaces/runner/actions/" + name + "?" + query;
        return tenant.call("POST", url, body);
    }

    private JsonNode activation(String id) {
        AtomicReference<JsonNode> found = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            Tenant.Answer r = tenant.call("GET", base + "/activations/" + id, null);
            if (r.status() == 200) {
                found.set(r.json());
            }
            return found.get() != null;
        });
        return found.get();
    }

    private static JsonNode annotation(JsonNode activation, String key) {
        for (JsonNode a : activation.path("annotations")) {
            if (key.equals(a.path("key").asText())) {
                return a.path("value");
            }
        }
        return null;
    }

    @Test
    void eachKindRunsBlockingWarmAfterCold() throws Exception {
        action("hello-node", "nodejs:default", "function main(p) { console.log('hi ' + p.name); return {greeting: 'hello ' + p.name, kind: 'node'}; }", "");
        action("hello-python", "python:default", "def main(args):\n    print('hi ' + args['name'])\n    return {'greeting': 'hello ' + args['name'], 'kind': 'python'}\n", "");
        put("/actions/hello-java", "{\"exec\":{\"kind\":\"java:default\",\"main\":\"demo.Hello\",\"code\":\"" + javaJar() + "\"}}");
        for (String kind : List.of("node", "python", "java")) {
            long t0 = System.nanoTime();
            Tenant.Answer cold = invoke("a", "hello-" + kind, "blocking=true", "{\"name\":\"" + kind + "\"}");
            long coldMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(cold.status()).as(cold.body()).isEqualTo(200);
            JsonNode record = cold.json();
            assertThat(record.path("response").path("result").path("greeting").asText()).isEqualTo("hello " + kind);
            assertThat(record.path("response").path("success").asBoolean()).isTrue();
            assertThat(record.path("logs")).as("a blocking answer has no logs").isEmpty();
            assertThat(cold.activationId()).contains(record.path("activationId").asText());
            assertThat(annotation(record, "path").asText()).isEqualTo("runner/hello-" + kind);
            assertThat(annotation(record, "kind").asText()).startsWith(kind.equals("node") ? "nodejs:" : kind + ":");
            assertThat(annotation(record, "limits").path("memory").asInt()).isEqualTo(256);
            assertThat(annotation(record, "waitTime")).isNotNull();
            assertThat(annotation(record, "timeout").asBoolean()).isFalse();
            assertThat(annotation(record, "initTime")).as("a cold start has initTime").isNotNull();

            long t1 = System.nanoTime();
            Tenant.Answer warm = invoke("a", "hello-" + kind, "blocking=true&result=true", "{\"name\":\"warm\"}");
            long warmMs = (System.nanoTime() - t1) / 1_000_000;
            assertThat(warm.status()).as(warm.body()).isEqualTo(200);
            assertThat(warm.json().path("greeting").asText()).isEqualTo("hello warm");
            JsonNode warmRecord = activation(warm.activationId().orElseThrow());
            assertThat(annotation(warmRecord, "initTime")).as("a warm start has no initTime").isNull();
            assertThat(warmRecord.path("logs").toString()).contains("stdout: hi warm");
            System.out.printf("MEASURED %s action through the API: cold %d ms (init %s ms), warm %d ms%n", kind, coldMs,
                    annotation(record, "initTime"), warmMs);
        }
    }

    @Test
    void nonBlockingResultsArraysErrorsAndTimeouts() throws Exception {
        action("echo", "nodejs:default", "function main(p) { return p; }", "");
        Tenant.Answer accepted = invoke("b", "echo", "", "{\"x\":1}");
        assertThat(accepted.status()).isEqualTo(202);
        String id = accepted.json().path("activationId").asText();
        assertThat(id).matches("[0-9a-f]{32}");
        assertThat(accepted.activationId()).contains(id);
        assertThat(activation(id).path("response").path("result").path("x").asInt()).isEqualTo(1);

        action("list", "nodejs:default", "function main() { return [1, 2, 3]; }", "");
        Tenant.Answer array = invoke("c", "list", "blocking=true", null);
        assertThat(array.status()).isEqualTo(200);
        assertThat(array.json().toString()).isEqualTo("[1,2,3]");

        action("app-error", "nodejs:default", "function main() { return {error: 'bad input'}; }", "");
        Tenant.Answer app = invoke("a", "app-error", "blocking=true", null);
        assertThat(app.status()).isEqualTo(502);
        assertThat(app.json().path("response").path("status").asText()).isEqualTo("application error");
        assertThat(app.json().path("response").path("result").path("error").asText()).isEqualTo("bad input");

        action("dev-error", "nodejs:default", "function main() { throw new Error('boom'); }", "");
        Tenant.Answer dev = invoke("a", "dev-error", "blocking=true&result=true", null);
        assertThat(dev.status()).isEqualTo(502);
        assertThat(dev.json().path("error").asText()).contains("boom");

        action("slow", "nodejs:default", "function main(p) { return new Promise(r => setTimeout(() => r({done: true}), 2500)); }", "");
        Tenant.Answer slow = invoke("a", "slow", "blocking=true&timeout=300", null);
        assertThat(slow.status()).as("past the wait, the answer is 202 and the action runs on").isEqualTo(202);
        JsonNode finished = activation(slow.json().path("activationId").asText());
        assertThat(finished.path("response").path("result").path("done").asBoolean()).isTrue();
        assertThat(invoke("a", "slow", "blocking=true&timeout=70000", null).status()).isEqualTo(400);

        action("limited", "nodejs:default", "function main() { return new Promise(() => {}); }", ",\"limits\":{\"timeout\":500}");
        Tenant.Answer timedOut = invoke("a", "limited", "blocking=true", null);
        assertThat(timedOut.status()).isEqualTo(502);
        assertThat(timedOut.json().path("response").path("result").path("error").asText())
                .isEqualTo("The action exceeded its time limits of 500 milliseconds.");
        assertThat(annotation(timedOut.json(), "timeout").asBoolean()).isTrue();
        assertThat(invoke("a", "echo", "blocking=true", "{\"after\":\"timeout\"}").status()).isEqualTo(200);

        Tenant.Answer big = invoke("a", "echo", "blocking=true", "{\"big\":\"" + "x".repeat(1_100_000) + "\"}");
        assertThat(big.status()).as("a payload over 1 MB").isEqualTo(413);
    }

    @Test
    void parametersFollowOpenWhisksPrecedenceAndFinal() throws Exception {
        put("/packages/params-pkg", "{\"parameters\":[{\"key\":\"a\",\"value\":\"package\"},{\"key\":\"b\",\"value\":\"package\"},"
                + "{\"key\":\"c\",\"value\":\"package\"},{\"key\":\"d\",\"value\":\"package\"}]}");
        put("/packages/params-binding", "{\"binding\":{\"namespace\":\"runner\",\"name\":\"params-pkg\"},\"parameters\":["
                + "{\"key\":\"b\",\"value\":\"binding\"},{\"key\":\"c\",\"value\":\"binding\"},{\"key\":\"d\",\"value\":\"binding\"}]}");
        put("/actions/params-pkg/show", "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(p) { return {a: p.a, b: p.b, c: p.c, d: p.d, "
                + "secret: process.env.SECRET, key: process.env.__OW_API_KEY || null, host: process.env.__OW_API_HOST}; }\"},"
                + "\"parameters\":[{\"key\":\"c\",\"value\":\"action\"},{\"key\":\"d\",\"value\":\"action\"},{\"key\":\"SECRET\",\"value\":\"s3\",\"init\":true}],"
                + "\"annotations\":[{\"key\":\"provide-api-key\",\"value\":true}]}");
        String url = base + "/actions/params-binding/show?blocking=true&result=true";
        Tenant.Answer r = tenant.call("POST", url, "{\"d\":\"request\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode p = r.json();
        assertThat(p.path("a").asText()).isEqualTo("package");
        assertThat(p.path("b").asText()).isEqualTo("binding");
        assertThat(p.path("c").asText()).isEqualTo("action");
        assertThat(p.path("d").asText()).isEqualTo("request");
        assertThat(p.path("secret").asText()).as("init parameters reach the container's environment").isEqualTo("s3");
        assertThat(p.path("key").asText()).isEqualTo(tenant.auth);
        assertThat(p.path("host").asText()).startsWith("http://");

        action("frozen", "nodejs:default", "function main(p) { return p; }",
                ",\"parameters\":[{\"key\":\"fixed\",\"value\":1}],\"annotations\":[{\"key\":\"final\",\"value\":true}]");
        assertThat(invoke("a", "frozen", "blocking=true", "{\"fixed\":2}").status()).isEqualTo(400);
        assertThat(invoke("a", "frozen", "blocking=true&result=true", "{\"other\":2}").json().path("fixed").asInt()).isEqualTo(1);

        Tenant.Answer missingKind = tenant.call("PUT", base + "/actions/cobol", "{\"exec\":{\"kind\":\"php:8.1\",\"code\":\"x\"}}");
        assertThat(missingKind.status()).isEqualTo(400);
        assertThat(missingKind.json().path("error").asText()).contains("php:8.1").contains("nodejs:");
    }

    @Test
    void sequencesOfThreeAndTriggersFiringRules() throws Exception {
        action("step-add", "nodejs:default", "function main(p) { return {n: (p.n || 0) + 1, trail: (p.trail || '') + 'a'}; }", "");
        action("step-double", "python:default", "def main(p):\n    return {'n': p['n'] * 2, 'trail': p['trail'] + 'd'}\n", "");
        action("step-square", "nodejs:default", "function main(p) { return {n: p.n * p.n, trail: p.trail + 's'}; }", "");
        put("/actions/three", "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/runner/step-add\",\"/runner/step-double\",\"/runner/step-square\"]}}");
        Tenant.Answer seq = invoke("b", "three", "blocking=true", "{\"n\":2}");
        assertThat(seq.status()).as(seq.body()).isEqualTo(200);
        JsonNode record = seq.json();
        assertThat(record.path("response").path("result").path("n").asInt()).isEqualTo(36);
        assertThat(record.path("response").path("result").path("trail").asText()).isEqualTo("ads");
        assertThat(annotation(record, "kind").asText()).isEqualTo("sequence");
        assertThat(annotation(record, "topmost").asBoolean()).isTrue();
        JsonNode stored = activation(record.path("activationId").asText());
        assertThat(stored.path("logs")).as("a sequence's logs are its components' activation ids").hasSize(3);
        JsonNode first = activation(stored.path("logs").get(0).asText());
        assertThat(first.path("cause").asText()).isEqualTo(record.path("activationId").asText());
        assertThat(annotation(first, "causedBy").asText()).isEqualTo("sequence");

        put("/triggers/ding", "{\"parameters\":[{\"key\":\"from\",\"value\":\"trigger\"}]}");
        action("on-ding", "nodejs:default", "function main(p) { return {heard: p.from, extra: p.extra}; }", "");
        assertThat(tenant.call("POST", base + "/triggers/ding", "{}").status()).as("no rule: nothing fires").isEqualTo(204);
        put("/rules/ding-rule", "{\"trigger\":\"/runner/ding\",\"action\":\"/runner/on-ding\"}");
        Tenant.Answer fired = tenant.call("POST", base + "/triggers/ding", "{\"extra\":42}");
        assertThat(fired.status()).as(fired.body()).isEqualTo(202);
        JsonNode trigger = activation(fired.json().path("activationId").asText());
        assertThat(trigger.path("response").path("result").path("extra").asInt()).isEqualTo(42);
        JsonNode ruleLog = JSON.readTree(trigger.path("logs").get(0).asText());
        assertThat(ruleLog.path("success").asBoolean()).isTrue();
        assertThat(ruleLog.path("rule").asText()).isEqualTo("runner/ding-rule");
        JsonNode ruled = activation(ruleLog.path("activationId").asText());
        assertThat(ruled.path("response").path("result").path("heard").asText()).isEqualTo("trigger");
        assertThat(ruled.path("response").path("result").path("extra").asInt()).isEqualTo(42);
        assertThat(ruled.path("cause").asText()).isEqualTo(trigger.path("activationId").asText());
    }

    @Test
    void webActionsAnswerThroughTheGateway() throws Exception {
        put("/actions/page", "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(p) { return {html: '<b>' + p.who + '</b>', "
                + "method: p.__ow_method}; }\"},\"annotations\":[{\"key\":\"web-export\",\"value\":true}]}");
        String web = region.sharedApi() + "/api/v1/web/runner/default/page";
        Tenant.Answer html = Tenant.send("GET", web + ".html?who=web", null, null);
        assertThat(html.status()).as(html.body()).isEqualTo(200);
        assertThat(html.body()).isEqualTo("<b>web</b>");
        Tenant.Answer json = Tenant.send("GET", web + ".json?who=json", null, null);
        assertThat(json.json().path("method").asText()).isEqualTo("get");
        assertThat(json.activationId()).isPresent();
    }

    /** A jar with {@code demo.Hello}, written against Gson's JsonObject as IBM Cloud Functions' Java actions are. */
    private static String javaJar() throws Exception {
        Path dir = Files.createTempDirectory("petrel-java-action");
        Path src = dir.resolve("demo").resolve("Hello.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, """
                package demo;
                import com.google.gson.JsonObject;
                public class Hello {
                    public static JsonObject main(JsonObject args) {
                        System.out.println("hi " + args.get("name").getAsString());
                        JsonObject out = new JsonObject();
                        out.addProperty("greeting", "hello " + args.get("name").getAsString());
                        out.addProperty("kind", "java");
                        return out;
                    }
                }
                """);
        String gson = Path.of(com.google.gson.JsonObject.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "--release", "21", "-cp", gson, "-d", dir.toString(), src.toString());
        assertThat(rc).isZero();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(bytes)) {
            jar.putNextEntry(new JarEntry("demo/Hello.class"));
            jar.write(Files.readAllBytes(dir.resolve("demo").resolve("Hello.class")));
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(walk.toList());
            java.util.Collections.reverse(all);
            for (Path p : all) {
                Files.delete(p);
            }
        }
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }
}
