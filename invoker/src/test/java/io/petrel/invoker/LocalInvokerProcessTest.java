package io.petrel.invoker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.invoke.RunResult;
import io.petrel.container.ContainerFactory;
import io.petrel.container.Isolation;
import io.petrel.runtimes.RuntimeCatalog;
import io.petrel.runtimes.RuntimeKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * The invoker with real runtimes and containers: processes of node (and python) started by the
 * container factory, under the strongest isolation this machine offers. Times are printed for the
 * record; assertions on them only compare, never hold a machine to a number.
 */
class LocalInvokerProcessTest {
    private static final String ZONE = "invoker-it";
    private static final String ECHO = "function main(params) { return params; }";
    /** Sleeps {@code sleep} ms if asked, and says when it ran (for overlap checks). */
    private static final String SLEEPER = """
            function main(params) {
              const start = Date.now();
              return new Promise(resolve => setTimeout(() => resolve({start, end: Date.now(), n: params.n}), params.sleep || 0));
            }
            """;

    private static Path root;
    private static RuntimeCatalog catalog;
    private static ContainerFactory factory;
    private static String nodeKind;

    private final List<LocalInvoker> invokers = new ArrayList<>();

    @BeforeAll
    static void startFactory() throws IOException {
        root = Files.createTempDirectory("petrel-invoker-it");
        // Containers may run as uids of their own: they must be able to reach their work directories.
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        catalog = RuntimeCatalog.detect(root.resolve("launchers"));
        nodeKind = catalog.resolve("nodejs:default").map(RuntimeKind::kind).orElse(null);
        Isolation isolation = ContainerFactory.detectIsolation();
        factory = new ContainerFactory(catalog, root.resolve("containers"), isolation, ZONE);
    }

    @AfterAll
    static void closeFactory() throws IOException {
        if (factory != null) {
            factory.close();
        }
        if (root != null) {
            try (Stream<Path> paths = Files.walk(root)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @AfterEach
    void closeInvokers() {
        invokers.forEach(LocalInvoker::close);
        // Evicted and discarded containers close in the background.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(factory.containers()).as("every container the pools started is closed").isEmpty());
    }

    private LocalInvoker invoker(int memoryMb, Map<String, Integer> prewarm) {
        assumeThat(nodeKind).as("node on this machine").isNotNull();
        ContainerPool pool = new ContainerPool(ZONE, new PoolConfig(memoryMb, prewarm, 256, Duration.ofMinutes(5), 2),
                (kind, memory, concurrency) -> factory.start(kind, memory, concurrency, Map.of()));
        pool.start();
        LocalInvoker invoker = new LocalInvoker(ZONE, catalog, pool);
        invokers.add(invoker);
        return invoker;
    }

    private static Requests node(String code) {
        return Requests.nodejs(code).kind("nodejs:default");
    }

    private record Timed(RunResult result, long millis) {
    }

    private static Timed timed(LocalInvoker invoker, RunRequest request) throws Exception {
        long begin = System.nanoTime();
        Optional<CompletableFuture<RunResult>> started = invoker.tryRun(request);
        assertThat(started).as("placed").isPresent();
        RunResult result = started.get().get(30, TimeUnit.SECONDS);
        return new Timed(result, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
    }

    private static JsonNode value(Object... keyValues) {
        var node = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < keyValues.length; i += 2) {
            String key = (String) keyValues[i];
            switch (keyValues[i + 1]) {
                case Integer n -> node.put(key, n);
                case String text -> node.put(key, text);
                default -> throw new IllegalArgumentException("not a test value: " + keyValues[i + 1]);
            }
        }
        return node;
    }

    @Test
    void nodejsColdThenWarm() throws Exception {
        LocalInvoker invoker = invoker(1024, Map.of());
        Timed cold = timed(invoker, node(ECHO).of("echo", value("name", "cold")));
        Timed warm = timed(invoker, node(ECHO).of("echo", value("name", "warm")));
        System.out.printf("nodejs identity: cold %d ms (init %d ms), warm %d ms%n", cold.millis(),
                cold.result().initMillis().orElse(-1), warm.millis());

        assertThat(cold.result().statusCode()).as("%s", cold.result()).isZero();
        assertThat(cold.result().result().get("name").asText()).isEqualTo("cold");
        assertThat(cold.result().initMillis()).isPresent();
        assertThat(cold.result().zone()).isEqualTo(ZONE);
        assertThat(warm.result().statusCode()).isZero();
        assertThat(warm.result().result().get("name").asText()).isEqualTo("warm");
        assertThat(warm.result().initMillis()).isEmpty();
        assertThat(warm.millis()).as("warm is much faster than cold").isLessThan(cold.millis() / 2);
        assertThat(invoker.stats().coldStarts()).isEqualTo(1);
        assertThat(invoker.stats().warmStarts()).isEqualTo(1);
        assertThat(factory.containers()).hasSize(1);
    }

    @Test
    void pythonColdThenWarm() throws Exception {
        String python = catalog.resolve("python:default").map(RuntimeKind::kind).orElse(null);
        assumeThat(python).as("python on this machine").isNotNull();
        LocalInvoker invoker = invoker(1024, Map.of());
        Requests echo = Requests.nodejs("def main(args):\n    return args\n").kind(python);
        Timed cold = timed(invoker, echo.of("pyecho", value("name", "cold")));
        Timed warm = timed(invoker, echo.of("pyecho", value("name", "warm")));
        System.out.printf("python identity: cold %d ms (init %d ms), warm %d ms%n", cold.millis(),
                cold.result().initMillis().orElse(-1), warm.millis());
        assertThat(cold.result().statusCode()).as("%s", cold.result()).isZero();
        assertThat(warm.result().result().get("name").asText()).isEqualTo("warm");
        assertThat(warm.result().initMillis()).isEmpty();
    }

    @Test
    void aPrewarmedStartIsFasterThanAColdOne() throws Exception {
        LocalInvoker coldOnly = invoker(1024, Map.of());
        Timed cold = timed(coldOnly, node(ECHO).of("first"));

        LocalInvoker prewarming = invoker(1024, Map.of(nodeKind, 1));
        await().atMost(Duration.ofSeconds(20)).until(() -> prewarming.stats().prewarmed() == 1);
        Thread.sleep(300); // let the prewarmed node finish booting, as it would between activations
        Timed prewarmed = timed(prewarming, node(ECHO).of("second"));
        System.out.printf("nodejs identity: cold %d ms (init %d ms), prewarmed %d ms (init %d ms)%n", cold.millis(),
                cold.result().initMillis().orElse(-1), prewarmed.millis(), prewarmed.result().initMillis().orElse(-1));

        assertThat(prewarmed.result().statusCode()).as("%s", prewarmed.result()).isZero();
        assertThat(prewarmed.result().initMillis()).isPresent();
        assertThat(prewarming.stats().prewarmStarts()).isEqualTo(1);
        assertThat(prewarming.stats().coldStarts()).isZero();
        assertThat(prewarmed.millis()).isLessThan(cold.millis());
        // The reserve is refilled, and a prewarmed container takes an action's memory.
        await().atMost(Duration.ofSeconds(20)).until(() -> prewarming.stats().prewarmed() == 1);
        Timed resized = timed(prewarming, node(ECHO).memory(512).of("third"));
        assertThat(resized.result().statusCode()).as("%s", resized.result()).isZero();
        assertThat(prewarming.stats().prewarmStarts()).isEqualTo(2);
        assertThat(prewarming.stats().memoryInUseMb()).isGreaterThanOrEqualTo(256 + 512);
    }

    @Test
    void anUpdatedActionDoesNotReuseTheOldContainer() throws Exception {
        LocalInvoker invoker = invoker(1024, Map.of());
        Requests v1 = node("function main() { return {v: 1}; }").revision(1);
        Requests v2 = node("function main() { return {v: 2}; }").revision(2);
        assertThat(timed(invoker, v1.of("upd")).result().result().get("v").asInt()).isEqualTo(1);
        assertThat(timed(invoker, v1.of("upd")).result().initMillis()).isEmpty();
        RunResult updated = timed(invoker, v2.of("upd")).result();
        assertThat(updated.result().get("v").asInt()).isEqualTo(2);
        assertThat(updated.initMillis()).as("a new container").isPresent();
        assertThat(invoker.stats().coldStarts()).isEqualTo(2);
        assertThat(factory.containers()).hasSize(2);
    }

    @Test
    void afterATimeoutTheNextActivationRunsOnAFreshContainer() throws Exception {
        LocalInvoker invoker = invoker(1024, Map.of());
        Requests sleeper = node(SLEEPER).timeout(1_000);
        RunResult timedOut = timed(invoker, sleeper.of("sleepy", value("sleep", 10_000))).result();
        assertThat(timedOut.timedOut()).as("%s", timedOut).isTrue();
        assertThat(timedOut.statusCode()).isEqualTo(2);
        assertThat(timedOut.result().get("error").asText()).contains("time limit");
        assertThat(timedOut.endMillis() - timedOut.startMillis()).isBetween(900L, 5_000L);

        RunResult next = timed(invoker, sleeper.of("sleepy", value("sleep", 0))).result();
        assertThat(next.statusCode()).as("%s", next).isZero();
        assertThat(next.initMillis()).as("a fresh container").isPresent();
        assertThat(invoker.stats().discarded()).isEqualTo(1);
        assertThat(invoker.stats().coldStarts()).isEqualTo(2);
    }

    @Test
    void aFullPoolAnswersEmpty() throws Exception {
        LocalInvoker invoker = invoker(256, Map.of());
        CompletableFuture<RunResult> busy = invoker.tryRun(node(SLEEPER).of("busy", value("sleep", 1_500))).orElseThrow();
        assertThat(invoker.tryRun(node(ECHO).of("other"))).isEmpty();
        assertThat(invoker.tryRun(node(SLEEPER).of("busy"))).as("its only slot is taken").isEmpty();
        assertThat(busy.get(30, TimeUnit.SECONDS).statusCode()).isZero();
        RunResult after = timed(invoker, node(ECHO).of("other")).result();
        assertThat(after.statusCode()).as("%s", after).isZero();
        assertThat(invoker.stats().evicted()).isEqualTo(1);
        assertThat(invoker.stats().rejected()).isEqualTo(2);
    }

    @Test
    void concurrencyTwoRunsTwoSlowActivationsAtOnceInOneContainer() throws Exception {
        LocalInvoker invoker = invoker(1024, Map.of());
        Requests sleeper = node(SLEEPER).concurrency(2);
        CompletableFuture<RunResult> a = invoker.tryRun(sleeper.of("conc", value("sleep", 1_000, "n", 1))).orElseThrow();
        CompletableFuture<RunResult> b = invoker.tryRun(sleeper.of("conc", value("sleep", 1_000, "n", 2))).orElseThrow();
        JsonNode ra = a.get(30, TimeUnit.SECONDS).result();
        JsonNode rb = b.get(30, TimeUnit.SECONDS).result();
        System.out.printf("concurrency 2: runs %d-%d and %d-%d ms%n", 0, ra.get("end").asLong() - ra.get("start").asLong(),
                rb.get("start").asLong() - ra.get("start").asLong(), rb.get("end").asLong() - ra.get("start").asLong());

        assertThat(ra.get("n").asInt()).as("%s", ra).isEqualTo(1);
        assertThat(rb.get("n").asInt()).as("%s", rb).isEqualTo(2);
        assertThat(ra.get("start").asLong()).as("they overlap").isLessThan(rb.get("end").asLong());
        assertThat(rb.get("start").asLong()).as("they overlap").isLessThan(ra.get("end").asLong());
        assertThat(invoker.stats().coldStarts()).isEqualTo(1);
        assertThat(invoker.stats().warmStarts()).isEqualTo(1);
        assertThat(factory.containers()).hasSize(1);
    }
}
