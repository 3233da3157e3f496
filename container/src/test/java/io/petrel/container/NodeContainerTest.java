package io.petrel.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

import static io.petrel.container.TestSupport.IDENTITY;
import static io.petrel.container.TestSupport.JSON;
import static io.petrel.container.TestSupport.LOG_LIMIT;
import static io.petrel.container.TestSupport.LOG_LINE;
import static io.petrel.container.TestSupport.TIMEOUT;
import static io.petrel.container.TestSupport.assertHealthy;
import static io.petrel.container.TestSupport.error;
import static io.petrel.container.TestSupport.files;
import static io.petrel.container.TestSupport.init;
import static io.petrel.container.TestSupport.nodeKind;
import static io.petrel.container.TestSupport.object;
import static io.petrel.container.TestSupport.run;
import static io.petrel.container.TestSupport.startNode;
import static io.petrel.container.TestSupport.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The action loop with Node.js actions under the machine's strongest isolation: what each way of answering,
 * failing or misbehaving becomes, word for word as OpenWhisk says it, and that a healthy container running beside
 * the misbehaving one never notices.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeContainerTest {
    private ContainerFactory factory;
    private ActionContainer healthy;
    private final List<ActionContainer> started = new ArrayList<>();

    @BeforeAll
    void startFactory() throws IOException {
        factory = TestSupport.factory(TestSupport.strongest(), "ctest-node");
        healthy = startNode(factory, IDENTITY);
    }

    @AfterEach
    void closeStarted() {
        assertHealthy(healthy);
        started.forEach(ActionContainer::close);
        started.clear();
    }

    @AfterAll
    void closeFactory() {
        factory.close();
    }

    private ActionContainer start(String code) throws IOException {
        ActionContainer container = startNode(factory, code);
        started.add(container);
        return container;
    }

    private ActionContainer startUninitialized() throws IOException {
        ActionContainer container = factory.start(nodeKind(), 256, 1, Map.of("__OW_API_HOST", "http://127.0.0.1:3233"));
        started.add(container);
        return container;
    }

    @Test
    void identityInitAndRun() throws IOException {
        ActionContainer container = startUninitialized();
        Outcome init = container.init(init("function main(params) { console.log('hello', params.name); console.error('to stderr'); return params; }"), TIMEOUT);
        assertThat(init.statusCode()).isZero();
        assertThat(init.result()).isEqualTo(JSON.createObjectNode());
        assertThat(init.logs()).isEmpty();
        assertThat(init.containerUsable()).isTrue();

        ObjectNode value = object("{\"name\":\"petrel\",\"list\":[1,true,null,{\"x\":1.5}]}");
        Outcome outcome = container.run(run(value), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).isZero();
        assertThat(outcome.result()).isEqualTo(value);
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.containerUsable()).isTrue();
        assertThat(outcome.endMillis()).isGreaterThanOrEqualTo(outcome.startMillis());
        assertThat(outcome.logs()).hasSize(2).allMatch(line -> line.matches(LOG_LINE));
        assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stdout: hello petrel"));
        assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stderr: to stderr"));
        assertThat(String.join("\n", outcome.logs())).doesNotContain("XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX");

        // Warm: the same container runs again, and each run has only its own logs.
        Outcome second = container.run(run(object("{\"name\":\"again\"}")), TIMEOUT, LOG_LIMIT);
        assertThat(second.statusCode()).isZero();
        assertThat(second.logs()).hasSize(2).anyMatch(line -> line.endsWith(" stdout: hello again"));
    }

    @Test
    void unicodeGoesBothWays() throws IOException {
        ActionContainer container = start("function main(params) { console.log(params.text); return { text: params.text, length: params.text.length }; }");
        String text = "Grüße, 世界! ✓ 🐦 \u2028 \"quoted\" \\ tab\t";
        Outcome outcome = container.run(run(JSON.createObjectNode().put("text", text)), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).isZero();
        assertThat(outcome.result().get("text").asText()).isEqualTo(text);
        assertThat(outcome.result().get("length").asInt()).isEqualTo(text.length());
        assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stdout: " + text));
    }

    @Test
    void environmentIsCleanAndCarriesTheActivation() throws IOException {
        ActionContainer container = startUninitialized();
        Outcome init = container.init(init("function main() { return { env: process.env, cwd: process.cwd() }; }",
                Map.of("INIT_PARAM", "from init")), TIMEOUT);
        assertThat(init.statusCode()).isZero();
        RunMessage message = run(JSON.createObjectNode(), Optional.of("uuid:secret-key"));
        Outcome outcome = container.run(message, TIMEOUT, LOG_LIMIT);
        JsonNode env = outcome.result().get("env");
        String workDir = outcome.result().get("cwd").asText();
        assertThat(env.get("PATH").asText()).isEqualTo("/usr/local/bin:/usr/bin:/bin");
        assertThat(env.get("HOME").asText()).isEqualTo(workDir);
        assertThat(env.get("TMPDIR").asText()).isEqualTo(workDir + "/tmp");
        assertThat(env.get("LANG").asText()).isEqualTo("C.UTF-8");
        assertThat(env.get("__OW_API_HOST").asText()).isEqualTo("http://127.0.0.1:3233");
        assertThat(env.get("INIT_PARAM").asText()).isEqualTo("from init");
        assertThat(env.get("__OW_ACTIVATION_ID").asText()).isEqualTo(message.activationId());
        assertThat(env.get("__OW_ACTION_NAME").asText()).isEqualTo("/test/pkg/action");
        assertThat(env.get("__OW_NAMESPACE").asText()).isEqualTo("test");
        assertThat(env.get("__OW_DEADLINE").asText()).isEqualTo(Long.toString(message.deadlineMillis()));
        assertThat(env.get("__OW_API_KEY").asText()).isEqualTo("uuid:secret-key");
        assertThat(env.has("__OW_ALLOW_CONCURRENT")).isFalse();
        // Nothing of the JVM's environment leaks in.
        List<String> names = new ArrayList<>();
        env.fieldNames().forEachRemaining(names::add);
        assertThat(names).allMatch(name -> name.startsWith("__OW_") || List.of("PATH", "HOME", "TMPDIR", "LANG", "INIT_PARAM", "PWD").contains(name));

        Outcome withoutKey = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(withoutKey.result().get("env").has("__OW_API_KEY")).isFalse();
    }

    @Test
    void payloadNearOneMegabytePasses() throws IOException {
        ActionContainer container = start(IDENTITY);
        String big = "p".repeat(1_000_000);
        Outcome outcome = container.run(run(JSON.createObjectNode().put("big", big)), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).isZero();
        assertThat(outcome.result().get("big").asText()).isEqualTo(big);
    }

    @Test
    void resultOverOneMebibyteIsAnApplicationError() throws IOException {
        ActionContainer container = start("function main(params) { return { s: 'x'.repeat(params.n) }; }");
        Outcome outcome = container.run(run(object("{\"n\":1100000}")), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).isEqualTo(1);
        assertThat(error(outcome)).isEqualTo("The action produced a response that exceeded the allowed length: 1100008 > 1048576 bytes.");
        assertThat(outcome.containerUsable()).isTrue();

        // Larger than what the container keeps of a line: still the exact size, still usable.
        Outcome huge = container.run(run(object("{\"n\":6000000}")), TIMEOUT, LOG_LIMIT);
        assertThat(huge.statusCode()).isEqualTo(1);
        assertThat(error(huge)).isEqualTo("The action produced a response that exceeded the allowed length: 6000008 > 1048576 bytes.");
        Outcome small = container.run(run(object("{\"n\":3}")), TIMEOUT, LOG_LIMIT);
        assertThat(small.statusCode()).isZero();
        assertThat(small.result()).isEqualTo(object("{\"s\":\"xxx\"}"));
    }

    @Test
    void secondInitIsRefusedAndTheContainerStillRuns() throws IOException {
        ActionContainer container = start(IDENTITY);
        Outcome again = container.init(init("function main() { return { replaced: true }; }"), TIMEOUT);
        assertThat(again.statusCode()).isEqualTo(2);
        assertThat(again.result()).isEqualTo(object("{\"error\":\"Cannot initialize the action more than once.\"}"));
        assertThat(again.containerUsable()).isTrue();
        assertThat(container.usable()).isTrue();
        assertHealthy(container);
    }

    @Test
    void applicationErrorAndThrownError() throws IOException {
        ActionContainer container = start("function main(params) { if (params.throw) throw new Error('boom'); return { error: 'bad input' }; }");
        Outcome application = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(application.statusCode()).isEqualTo(1);
        assertThat(application.result()).isEqualTo(object("{\"error\":\"bad input\"}"));
        Outcome thrown = container.run(run(object("{\"throw\":true}")), TIMEOUT, LOG_LIMIT);
        assertThat(thrown.statusCode()).isEqualTo(2);
        assertThat(error(thrown)).isEqualTo("An error has occurred: Error: boom");
        assertThat(thrown.containerUsable()).isTrue();
    }

    @Test
    void initErrorIsADeveloperErrorAndTheContainerIsDone() throws IOException {
        ActionContainer container = startUninitialized();
        Outcome init = container.init(init("function main( {"), TIMEOUT);
        assertThat(init.statusCode()).isEqualTo(2);
        assertThat(error(init)).startsWith("Initialization has failed due to: SyntaxError");
        assertThat(init.containerUsable()).isFalse();
    }

    @Test
    void garbageOnTheAnswerChannelBreaksTheContainer() throws IOException {
        ActionContainer container = start("function main() { require('fs').writeSync(3, 'garbage\\n'); return { ok: true }; }");
        Outcome outcome = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).isEqualTo(2);
        assertThat(outcome.result()).isEqualTo(object("{\"error\":\"The action did not produce a valid JSON response.\"}"));
        assertThat(outcome.containerUsable()).isFalse();
        assertThat(container.usable()).isFalse();
    }

    @Test
    void exitDuringRun() throws IOException {
        ActionContainer container = start("function main() { console.log('bye'); process.exit(3); }");
        Outcome outcome = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).isEqualTo(2);
        assertThat(error(outcome)).isEqualTo("The action did not produce a valid response and exited unexpectedly.");
        assertThat(outcome.containerUsable()).isFalse();
        assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stdout: bye"));
        assertThat(container.usable()).isFalse();
    }

    @Test
    void exitDuringInit() throws IOException {
        ActionContainer container = startUninitialized();
        Outcome init = container.init(init("process.exit(1);\nfunction main() { return {}; }"), TIMEOUT);
        assertThat(init.statusCode()).isEqualTo(2);
        assertThat(error(init)).isEqualTo("The action did not initialize and exited unexpectedly.");
        assertThat(init.containerUsable()).isFalse();
    }

    @Test
    void runPastItsTimeLimitIsKilled() throws IOException {
        ActionContainer container = start("function main() { console.log('spinning'); while (true) {} }");
        long start = System.nanoTime();
        Outcome outcome = container.run(run(JSON.createObjectNode()), Duration.ofMillis(1000), LOG_LIMIT);
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(outcome.statusCode()).isEqualTo(2);
        assertThat(error(outcome)).isEqualTo("The action exceeded its time limits of 1000 milliseconds.");
        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.containerUsable()).isFalse();
        assertThat(elapsedMillis).isBetween(1000L, 2000L);
        assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stdout: spinning"));
        assertThat(container.usable()).isFalse();
        // A fresh container of the same action's kind is fine.
        assertHealthy(start(IDENTITY));
    }

    @Test
    void initPastItsTimeLimitIsKilled() throws IOException {
        ActionContainer container = startUninitialized();
        long start = System.nanoTime();
        Outcome init = container.init(init("while (true) {}\nfunction main() { return {}; }"), Duration.ofMillis(1000));
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(init.statusCode()).isEqualTo(2);
        assertThat(error(init)).isEqualTo("The action exceeded its time limits of 1000 milliseconds during initialization.");
        assertThat(init.timedOut()).isTrue();
        assertThat(init.containerUsable()).isFalse();
        assertThat(elapsedMillis).isBetween(1000L, 2000L);
    }

    @Test
    void logFloodIsCutAndNeverBlocksTheAction() throws IOException {
        // 50 MB of output with a 1 MiB limit.
        ActionContainer container = start("""
                function main(params) {
                  if (!params.flood) { console.log('quiet'); return { done: true }; }
                  const line = 'x'.repeat(1023);
                  for (let i = 0; i < 51200; i++) console.log(line);
                  return { done: true };
                }
                """);
        long limit = 1024 * 1024;
        long heapBefore = usedHeapAfterGc();
        long start = System.nanoTime();
        Outcome outcome = container.run(run(object("{\"flood\":true}")), Duration.ofSeconds(60), limit);
        assertThat(outcome.statusCode()).as("%s", outcome.result()).isZero();
        assertThat((System.nanoTime() - start) / 1_000_000_000).isLessThan(30);
        List<String> logs = outcome.logs();
        assertThat(logs.getLast()).matches(LOG_LINE)
                .endsWith(" stderr: Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes.");
        long kept = logs.subList(0, logs.size() - 1).stream()
                .mapToLong(line -> line.substring(line.indexOf(": ") + 2).getBytes(StandardCharsets.UTF_8).length)
                .sum();
        assertThat(kept).isLessThanOrEqualTo(limit).isGreaterThan(limit - 1024);
        assertThat(logs).hasSizeLessThanOrEqualTo(1026);
        // 50 MB went through; what stays is about the 1 MiB that was kept.
        assertThat(usedHeapAfterGc() - heapBefore).isLessThan(16L * 1024 * 1024);
        // The next activation starts afresh, with its own lines only.
        Outcome next = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(next.statusCode()).isZero();
        assertThat(next.logs()).singleElement().satisfies(line -> assertThat(line).endsWith(" stdout: quiet"));
    }

    @Test
    void zeroLogLimitKeepsNothing() throws IOException {
        ActionContainer container = start("function main() { console.log('a'); return {}; }");
        Outcome outcome = container.run(run(JSON.createObjectNode()), TIMEOUT, 0);
        assertThat(outcome.logs()).singleElement()
                .satisfies(line -> assertThat(line).endsWith("Logs were truncated because the total bytes size exceeds the limit of 0 bytes."));
    }

    @Test
    void whatInitPrintsIsInTheFirstActivationsLogs() throws IOException {
        ActionContainer container = start("console.log('loading');\nfunction main() { console.log('running'); return {}; }");
        Outcome first = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(first.logs()).hasSize(2);
        assertThat(first.logs().get(0)).endsWith(" stdout: loading");
        assertThat(first.logs().get(1)).endsWith(" stdout: running");
        Outcome second = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(second.logs()).singleElement().satisfies(line -> assertThat(line).endsWith(" stdout: running"));
    }

    @Test
    void zipArchiveIsUnpackedIntoTheActionFolder() throws IOException {
        ActionContainer container = startUninitialized();
        byte[] archive = zip(files(
                "package.json", "{\"main\":\"lib/entry.js\"}",
                "lib/entry.js", "const helper = require('./helper'); exports.handler = (p) => ({ greeting: helper.greet(p.name) });",
                "lib/helper.js", "exports.greet = (n) => 'hello ' + n;"));
        Outcome init = container.init(TestSupport.binaryInit(archive, "handler"), TIMEOUT);
        assertThat(init.statusCode()).as("%s %s", init.result(), init.logs()).isZero();
        Outcome outcome = container.run(run(object("{\"name\":\"zip\"}")), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.result()).isEqualTo(object("{\"greeting\":\"hello zip\"}"));
    }

    @Test
    void zipEntryOutsideTheFolderIsRefused() throws IOException {
        ActionContainer container = startUninitialized();
        Path workDir = ((ProcessContainer) container).workDir();
        Outcome init = container.init(TestSupport.binaryInit(zip(files("index.js", IDENTITY, "../escaped.js", "bad")), "main"), TIMEOUT);
        assertThat(init.statusCode()).isEqualTo(2);
        assertThat(error(init)).isEqualTo("There was an error uncompressing the action archive. The entry '../escaped.js' is outside the action's folder.");
        assertThat(Files.exists(workDir.resolve("escaped.js"))).isFalse();
        assertThat(init.containerUsable()).isFalse();
    }

    @Test
    void binaryCodeThatIsNotAZipIsRefused() throws IOException {
        ActionContainer container = startUninitialized();
        Outcome init = container.init(new InitMessage("/test/pkg/action", "main",
                Optional.of(Base64.getEncoder().encodeToString("not a zip at all".getBytes(StandardCharsets.UTF_8))), true, Map.of()), TIMEOUT);
        assertThat(init.statusCode()).isEqualTo(2);
        assertThat(error(init)).isEqualTo("There was an error uncompressing the action archive.");
    }

    @Test
    void concurrentActivationsShareOneContainer() throws Exception {
        ActionContainer container = factory.start(nodeKind(), 256, 4, Map.of());
        started.add(container);
        Outcome init = container.init(init("""
                function main(params) {
                  console.log('concurrent', params.i);
                  return new Promise((resolve) => setTimeout(() => resolve({ i: params.i, allowed: process.env.__OW_ALLOW_CONCURRENT }), 700));
                }
                """), TIMEOUT);
        assertThat(init.statusCode()).isZero();
        long start = System.nanoTime();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<Outcome>> runs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int n = i;
                runs.add(CompletableFuture.supplyAsync(() -> container.run(run(JSON.createObjectNode().put("i", n)), TIMEOUT, LOG_LIMIT), threads));
            }
            for (int i = 0; i < 4; i++) {
                Outcome outcome = runs.get(i).join();
                assertThat(outcome.statusCode()).isZero();
                assertThat(outcome.result()).isEqualTo(object("{\"i\":" + i + ",\"allowed\":\"true\"}"));
                assertThat(outcome.logs()).isEmpty();
            }
        }
        // Four runs of 700 ms each, together: well under the 2.8 s they would take one after another.
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(2500);
        assertThat(container.usable()).isTrue();
    }

    @Test
    void resizeBeforeInitOnly() throws IOException {
        ActionContainer container = factory.start(nodeKind(), 128, 1, Map.of());
        started.add(container);
        container.resize(384);
        assertThat(container.memoryMb()).isEqualTo(384);
        Optional<Path> limitFile = cgroupLimitFile(container);
        if (limitFile.isPresent()) {
            assertThat(Files.readString(limitFile.get()).trim()).isEqualTo(Long.toString(384L * 1024 * 1024));
        }
        assertThat(container.init(init(IDENTITY), TIMEOUT).statusCode()).isZero();
        assertThatThrownBy(() -> container.resize(512)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void runBeforeInitAndAfterCloseAreMistakes() throws IOException {
        ActionContainer container = startUninitialized();
        assertThatThrownBy(() -> container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT)).isInstanceOf(IllegalStateException.class);
        container.close();
        container.close();
        assertThat(container.usable()).isFalse();
        assertThatThrownBy(() -> container.init(init(IDENTITY), TIMEOUT)).isInstanceOf(IllegalStateException.class);
    }

    private static long usedHeapAfterGc() {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    private Optional<Path> cgroupLimitFile(ActionContainer container) {
        Isolation isolation = factory.isolation();
        return switch (isolation.memory()) {
            case CGROUP_V1 -> Optional.of(isolation.host().memoryV1().orElseThrow()
                    .resolve("petrel").resolve(factory.zone()).resolve(container.id()).resolve("memory.limit_in_bytes"));
            case CGROUP_V2 -> Optional.of(isolation.host().cgroupV2().orElseThrow()
                    .resolve("petrel").resolve(factory.zone()).resolve(container.id()).resolve("memory.max"));
            case RSS_WATCHDOG -> Optional.empty();
        };
    }
}
