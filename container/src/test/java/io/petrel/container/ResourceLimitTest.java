package io.petrel.container;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.petrel.container.TestSupport.IDENTITY;
import static io.petrel.container.TestSupport.JSON;
import static io.petrel.container.TestSupport.LOG_LIMIT;
import static io.petrel.container.TestSupport.TIMEOUT;
import static io.petrel.container.TestSupport.assertHealthy;
import static io.petrel.container.TestSupport.error;
import static io.petrel.container.TestSupport.init;
import static io.petrel.container.TestSupport.nodeKind;
import static io.petrel.container.TestSupport.processesRunning;
import static io.petrel.container.TestSupport.run;
import static io.petrel.container.TestSupport.startNode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Memory limits, processes an action starts, and fork bombs: with cgroups where the machine has them, and without. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResourceLimitTest {
    private static final String ALLOCATE = """
            function main() {
              const kept = [];
              for (let i = 0; i < 256; i++) kept.push(Buffer.alloc(16 * 1024 * 1024, 1));
              return { allocated: kept.length };
            }
            """;

    private ContainerFactory strongest;
    private ActionContainer healthy;

    @BeforeAll
    void start() throws IOException {
        strongest = TestSupport.factory(TestSupport.strongest(), "ctest-limits");
        healthy = startNode(strongest, IDENTITY);
    }

    @AfterAll
    void close() {
        strongest.close();
    }

    @Test
    void memoryLimitWithTheStrongestEnforcement() throws IOException {
        assumeTrue(strongest.isolation().memory() != Isolation.Memory.RSS_WATCHDOG, "no cgroup memory controller on this machine");
        exhaustMemory(strongest);
    }

    @Test
    void memoryLimitWithTheWatchdog() throws IOException {
        try (ContainerFactory factory = TestSupport.factory(TestSupport.strongest().withMemory(Isolation.Memory.RSS_WATCHDOG), "ctest-watchdog")) {
            exhaustMemory(factory);
        }
    }

    private void exhaustMemory(ContainerFactory factory) throws IOException {
        try (ActionContainer container = factory.start(nodeKind(), 128, 1, Map.of())) {
            assertThat(container.init(init(ALLOCATE), TIMEOUT).statusCode()).isZero();
            Outcome outcome = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
            assertThat(outcome.statusCode()).isEqualTo(2);
            assertThat(error(outcome)).isEqualTo("The action exhausted its memory and was aborted.");
            assertThat(outcome.containerUsable()).isFalse();
            assertThat(container.usable()).isFalse();
        }
        assertHealthy(healthy);
    }

    @Test
    void nothingAnActionStartedSurvivesClose() throws IOException {
        leavesNothingBehind(strongest);
    }

    @Test
    void nothingSurvivesCloseWithoutCgroupsEither() throws IOException {
        Isolation isolation = TestSupport.strongest().withMemory(Isolation.Memory.RSS_WATCHDOG);
        if (isolation.host().offers(Isolation.Sandbox.SEPARATE_USER)) {
            isolation = isolation.withSandbox(Isolation.Sandbox.SEPARATE_USER);
        }
        try (ContainerFactory factory = TestSupport.factory(isolation, "ctest-nocgroup")) {
            leavesNothingBehind(factory);
        }
    }

    private void leavesNothingBehind(ContainerFactory factory) throws IOException {
        // A unique duration: it tells the children of this test from every other process on the machine.
        String marker = "1000." + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        ActionContainer container = startNode(factory, """
                function main() {
                  const { spawn } = require('child_process');
                  spawn('sleep', ['%s'], { stdio: 'ignore' });
                  spawn('sleep', ['%s'], { stdio: 'ignore', detached: true }).unref();
                  spawn('/bin/sh', ['-c', 'sleep %s & sleep %s & wait'], { stdio: 'ignore', detached: true }).unref();
                  return new Promise((resolve) => setTimeout(() => resolve({ spawned: 4 }), 300));
                }
                """.formatted(marker, marker, marker, marker));
        Outcome outcome = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).as("%s", outcome.result()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> processesRunning("sleep", marker).size() == 4);
        container.close();
        assertThat(processesRunning("sleep", marker)).isEmpty();
        assertThat(Files.exists(((ProcessContainer) container).workDir())).isFalse();
        assertHealthy(healthy);
    }

    @Test
    void forkBombIsStoppedByThePidsLimit() throws IOException {
        Optional<Path> pidsParent = TestSupport.strongest().host().pidsV1()
                .or(() -> TestSupport.strongest().host().cgroupV2())
                .filter(ignored -> strongest.isolation().memory() != Isolation.Memory.RSS_WATCHDOG);
        assumeTrue(pidsParent.isPresent(), "no cgroup pids controller on this machine");
        ActionContainer container = startNode(strongest, """
                function main() {
                  require('child_process').spawn('/bin/sh', ['-c', 'b() { b | b & }; b'], { stdio: 'ignore', detached: true }).unref();
                  return new Promise((resolve) => setTimeout(() => resolve({ bombed: true }), 1000));
                }
                """);
        Path cgroup = pidsParent.get().resolve("petrel").resolve(strongest.zone()).resolve(container.id());
        AtomicLong most = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread watcher = Thread.ofVirtual().start(() -> {
            while (running.get()) {
                try {
                    most.accumulateAndGet(Files.readAllLines(cgroup.resolve("cgroup.procs")).size(), Math::max);
                    Thread.sleep(20);
                }
                catch (IOException | InterruptedException e) {
                    return;
                }
            }
        });
        // Whatever the action answers with its pids all taken, the machine and the other container are fine.
        container.run(run(JSON.createObjectNode()), Duration.ofSeconds(5), LOG_LIMIT);
        running.set(false);
        assertThat(most.get()).isGreaterThan(50).isLessThanOrEqualTo(ContainerFactory.MAX_PIDS);
        long start = System.nanoTime();
        container.close();
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5000);
        assertThat(Files.exists(cgroup)).isFalse();
        assertHealthy(healthy);
        // The container is replaced by a fresh one that works.
        try (ActionContainer fresh = startNode(strongest, IDENTITY)) {
            assertHealthy(fresh);
        }
        watcher.interrupt();
    }

    @Test
    void processesOfAContainerWithoutSandboxAreFound() {
        List<ProcTable.Proc> table = ProcTable.snapshot();
        long self = ProcessHandle.current().pid();
        assertThat(table).anyMatch(proc -> proc.pid() == self && proc.rssBytes() > 0);
        assertThat(ProcTable.members(table, self, java.util.OptionalInt.empty(), false)).contains(self);
    }
}
