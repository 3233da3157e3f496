package io.petrel.container;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.petrel.container.TestSupport.IDENTITY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Measures a container's start: from {@link ContainerFactory#start} to the answer of its first init, per kind and
 * sandbox, and a prewarmed container's init and first run. Only on request ({@code -Dpetrel.container.startTimes=true}): it takes a minute and proves nothing the
 * other tests do not. Prints a table and writes it to {@code target/container-start-times.txt}.
 */
class StartTimesTest {
    private static final int SAMPLES = 7;

    @Test
    void measure() throws Exception {
        assumeTrue(Boolean.getBoolean("petrel.container.startTimes"), "start times are measured with -Dpetrel.container.startTimes=true");
        byte[] jar = JavaContainerTest.compileJar("Identity", """
                public class Identity {
                    public static com.google.gson.JsonObject main(com.google.gson.JsonObject args) { return args; }
                }
                """);
        Map<String, InitMessage> inits = new LinkedHashMap<>();
        inits.put("nodejs:default", TestSupport.init(IDENTITY));
        inits.put("python:default", TestSupport.init("def main(args):\n    return args\n"));
        inits.put("java:default", TestSupport.binaryInit(jar, "Identity"));
        List<Isolation> isolations = new ArrayList<>();
        Isolation strongest = TestSupport.strongest();
        isolations.add(strongest);
        if (strongest.sandbox() == Isolation.Sandbox.BUBBLEWRAP && strongest.host().offers(Isolation.Sandbox.SEPARATE_USER)) {
            isolations.add(strongest.withSandbox(Isolation.Sandbox.SEPARATE_USER));
        }
        isolations.add(strongest.withSandbox(Isolation.Sandbox.NONE));
        StringBuilder table = new StringBuilder("kind | sandbox | memory | median ms | min ms | max ms\n");
        for (Isolation isolation : isolations) {
            try (ContainerFactory factory = TestSupport.factory(isolation, "ctest-times")) {
                for (Map.Entry<String, InitMessage> entry : inits.entrySet()) {
                    Optional<String> kind = TestSupport.catalog().resolve(entry.getKey()).map(k -> k.kind());
                    if (kind.isEmpty()) {
                        continue;
                    }
                    List<Long> millis = new ArrayList<>();
                    for (int i = 0; i < SAMPLES + 1; i++) {
                        long start = System.nanoTime();
                        try (ActionContainer container = factory.start(kind.get(), 256, 1, Map.of())) {
                            Outcome init = container.init(entry.getValue(), Duration.ofSeconds(30));
                            long elapsed = (System.nanoTime() - start) / 1_000_000;
                            assertThat(init.statusCode()).as("%s %s", init.result(), init.logs()).isZero();
                            if (i > 0) {
                                millis.add(elapsed); // the first one warms the file cache
                            }
                        }
                    }
                    millis.sort(null);
                    table.append("%s | %s | %s | %d | %d | %d%n".formatted(kind.get(), isolation.sandbox(), isolation.memory(),
                            millis.get(millis.size() / 2), millis.getFirst(), millis.getLast()));
                    // A prewarmed container: started, idle for a second, then init and the first run.
                    List<Long> prewarmed = new ArrayList<>();
                    for (int i = 0; i < SAMPLES; i++) {
                        try (ActionContainer container = factory.start(kind.get(), 256, 1, Map.of())) {
                            Thread.sleep(1_000);
                            long start = System.nanoTime();
                            Outcome init = container.init(entry.getValue(), Duration.ofSeconds(30));
                            Outcome run = container.run(TestSupport.run(TestSupport.JSON.createObjectNode().put("x", 1)),
                                    Duration.ofSeconds(30), 1 << 20);
                            prewarmed.add((System.nanoTime() - start) / 1_000_000);
                            assertThat(init.statusCode()).as("%s", init.result()).isZero();
                            assertThat(run.statusCode()).as("%s", run.result()).isZero();
                        }
                    }
                    prewarmed.sort(null);
                    table.append("%s prewarmed (init + run) | %s | %s | %d | %d | %d%n".formatted(kind.get(), isolation.sandbox(),
                            isolation.memory(), prewarmed.get(prewarmed.size() / 2), prewarmed.getFirst(), prewarmed.getLast()));
                }
            }
        }
        System.out.println(table);
        Files.writeString(Path.of("target", "container-start-times.txt"), table);
    }
}
