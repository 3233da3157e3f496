package io.petrel.container;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.petrel.container.TestSupport.IDENTITY;
import static io.petrel.container.TestSupport.assertHealthy;
import static io.petrel.container.TestSupport.nodeKind;
import static io.petrel.container.TestSupport.startNode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What the factory finds on the machine, and what it cleans up. */
class FactoryTest {
    @Test
    void detectsTheStrongestIsolationOfThisMachine() {
        Isolation isolation = TestSupport.strongest();
        Isolation.Host host = isolation.host();
        // Whatever the machine, the choice is the strongest it offers.
        assertThat(isolation.sandbox()).isEqualTo(host.bwrap().isPresent() ? Isolation.Sandbox.BUBBLEWRAP
                : host.offers(Isolation.Sandbox.SEPARATE_USER) ? Isolation.Sandbox.SEPARATE_USER : Isolation.Sandbox.NONE);
        assertThat(isolation.memory()).isEqualTo(host.cgroupV2().isPresent() ? Isolation.Memory.CGROUP_V2
                : host.memoryV1().isPresent() ? Isolation.Memory.CGROUP_V1 : Isolation.Memory.RSS_WATCHDOG);
        // On a machine like the one Petrel is developed on (root, bubblewrap, a writable v1 memory hierarchy).
        if (host.root() && Files.exists(Path.of("/usr/bin/bwrap")) && Files.isDirectory(Path.of("/sys/fs/cgroup/memory"))
                && !Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))) {
            assertThat(isolation.sandbox()).isEqualTo(Isolation.Sandbox.BUBBLEWRAP);
            assertThat(isolation.memory()).isEqualTo(Isolation.Memory.CGROUP_V1);
            assertThat(isolation.separateUsers()).isTrue();
            assertThat(host.pidsV1()).isPresent();
        }
    }

    @Test
    void whatAKilledJvmLeftBehindIsRemoved() throws IOException, InterruptedException {
        Isolation isolation = TestSupport.strongest();
        assumeTrue(isolation.memory() == Isolation.Memory.CGROUP_V1, "the cgroup v1 layout is what this test builds by hand");
        String zone = "ctest-stale";
        long deadPid = deadPid();
        String staleId = deadPid + "-deadbeef";
        String liveId = ProcessHandle.current().pid() + "-cafe";
        List<Path> parents = new ArrayList<>();
        parents.add(isolation.host().memoryV1().orElseThrow().resolve("petrel").resolve(zone));
        isolation.host().pidsV1().ifPresent(pids -> parents.add(pids.resolve("petrel").resolve(zone)));
        for (Path parent : parents) {
            Files.createDirectories(parent.resolve(staleId));
            Files.createDirectories(parent.resolve(liveId));
        }
        // A process the dead JVM's container left running in its cgroup.
        Process orphan = new ProcessBuilder("sleep", "1000").start();
        ContainerCgroup.write(parents.getFirst().resolve(staleId).resolve("cgroup.procs"), Long.toString(orphan.pid()));
        Path containersDir = TestSupport.newDir("stale-");
        Files.createDirectories(containersDir.resolve(staleId).resolve("tmp"));
        Files.writeString(containersDir.resolve(staleId).resolve("left.txt"), "left");
        Files.createDirectories(containersDir.resolve(liveId));
        try (ContainerFactory factory = new ContainerFactory(TestSupport.catalog(), containersDir, isolation, zone)) {
            assertThat(orphan.waitFor(5, TimeUnit.SECONDS)).isTrue();
            for (Path parent : parents) {
                assertThat(Files.exists(parent.resolve(staleId))).isFalse();
                assertThat(Files.exists(parent.resolve(liveId))).as("a live JVM's cgroup").isTrue();
            }
            assertThat(Files.exists(containersDir.resolve(staleId))).isFalse();
            assertThat(Files.exists(containersDir.resolve(liveId))).isTrue();
            try (ActionContainer container = startNode(factory, IDENTITY)) {
                assertHealthy(container);
            }
        }
        finally {
            orphan.destroyForcibly();
            for (Path parent : parents) {
                Files.deleteIfExists(parent.resolve(liveId));
            }
        }
    }

    @Test
    void closingTheFactoryClosesItsContainers() throws IOException {
        ActionContainer container;
        Path workDir;
        try (ContainerFactory factory = TestSupport.factory(TestSupport.strongest(), "ctest-close")) {
            container = factory.start(nodeKind(), 128, 1, Map.of());
            workDir = ((ProcessContainer) container).workDir();
            assertThat(factory.containers()).containsExactly(container);
            assertThat(Files.exists(workDir)).isTrue();
        }
        assertThat(container.usable()).isFalse();
        assertThat(Files.exists(workDir)).isFalse();
    }

    @Test
    void closeFromManyThreadsAtOnce() throws Exception {
        try (ContainerFactory factory = TestSupport.factory(TestSupport.strongest(), "ctest-close")) {
            ActionContainer container = startNode(factory, IDENTITY);
            long pid = ((ProcessContainer) container).pid();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                threads.add(Thread.ofVirtual().start(container::close));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(factory.containers()).isEmpty();
        }
    }

    private static long deadPid() throws IOException, InterruptedException {
        Process process = new ProcessBuilder("true").start();
        process.waitFor();
        return process.pid();
    }
}
