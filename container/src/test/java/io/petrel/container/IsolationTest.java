package io.petrel.container;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static io.petrel.container.TestSupport.IDENTITY;
import static io.petrel.container.TestSupport.JSON;
import static io.petrel.container.TestSupport.LOG_LIMIT;
import static io.petrel.container.TestSupport.TIMEOUT;
import static io.petrel.container.TestSupport.assertHealthy;
import static io.petrel.container.TestSupport.run;
import static io.petrel.container.TestSupport.startNode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What an action can see: not Petrel's data folder, not another container's work directory, not root's secrets,
 * with each sandbox this machine offers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IsolationTest {
    // Reads a file, lists a folder and reports who it runs as; errors become their code (ENOENT, EACCES).
    private static final String PROBE = """
            const fs = require('fs');
            function attempt(f) { try { return f(); } catch (e) { return e.code; } }
            function main(params) {
              if (params.write) fs.writeFileSync(params.write, 'mine');
              return {
                read: params.read ? attempt(() => fs.readFileSync(params.read, 'utf8')) : null,
                list: params.list ? attempt(() => fs.readdirSync(params.list)) : null,
                shadow: attempt(() => fs.readFileSync('/etc/shadow', 'utf8').length),
                uid: process.getuid(),
                home: process.env.HOME,
              };
            }
            """;

    private Path dataFolder;
    private Path secret;

    @BeforeAll
    void makeSecret() throws IOException {
        // Like Petrel's data folder: owned by Petrel's user, mode 0700, outside every work directory.
        dataFolder = Files.createTempDirectory("petrel-data-");
        secret = Files.writeString(dataFolder.resolve("secret.txt"), "the store's key");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(dataFolder, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterAll
    void removeSecret() throws IOException {
        ProcessContainer.deleteTree(dataFolder);
    }

    @Test
    void bubblewrapShowsNothingOutsideTheSandbox() throws IOException {
        Isolation isolation = TestSupport.strongest();
        assumeTrue(isolation.sandbox() == Isolation.Sandbox.BUBBLEWRAP, "bubblewrap does not work on this machine");
        try (ContainerFactory factory = TestSupport.factory(isolation, "ctest-bwrap")) {
            Sides sides = probeBothWays(factory);
            assertThat(sides.secret().get("read").asText()).isEqualTo("ENOENT");
            assertThat(sides.secret().get("list").asText()).isEqualTo("ENOENT");
            assertThat(sides.neighbour().get("read").asText()).isEqualTo("ENOENT");
            assertThat(sides.secret().get("uid").asInt()).isEqualTo(65534);
            // Even /etc, which the sandbox shows, keeps root's secrets when Petrel is root.
            if (isolation.separateUsers()) {
                assertThat(sides.secret().get("shadow").asText()).isEqualTo("EACCES");
            }
            try (ActionContainer container = startNode(factory, PROBE)) {
                JsonNode root = container.run(run(JSON.createObjectNode().put("list", "/")), TIMEOUT, LOG_LIMIT).result();
                assertThat(root.get("list").toString()).doesNotContain("\"work\"", "\"root\"", "\"home\"", "\"var\"");
                JsonNode tmp = container.run(run(JSON.createObjectNode().put("list", "/tmp")), TIMEOUT, LOG_LIMIT).result();
                assertThat(tmp.get("list").toString()).doesNotContain(dataFolder.getFileName().toString());
            }
        }
    }

    @Test
    void separateUsersCannotReadEachOtherNorPetrel() throws IOException {
        Isolation strongest = TestSupport.strongest();
        assumeTrue(strongest.host().offers(Isolation.Sandbox.SEPARATE_USER), "not root, or no setpriv: no separate users");
        try (ContainerFactory factory = TestSupport.factory(strongest.withSandbox(Isolation.Sandbox.SEPARATE_USER), "ctest-users")) {
            Sides sides = probeBothWays(factory);
            assertThat(sides.secret().get("read").asText()).isEqualTo("EACCES");
            assertThat(sides.secret().get("list").asText()).isEqualTo("EACCES");
            assertThat(sides.neighbour().get("read").asText()).isEqualTo("EACCES");
            assertThat(sides.secret().get("shadow").asText()).isEqualTo("EACCES");
            assertThat(sides.secret().get("uid").asInt()).isGreaterThanOrEqualTo(UidPool.FIRST_UID);
            assertThat(sides.owner().get("uid").asInt()).isNotEqualTo(sides.secret().get("uid").asInt());
        }
    }

    @Test
    void withoutSandboxAContainerStillHasItsOwnFolderAndEnvironment() throws IOException {
        Isolation none = TestSupport.strongest().withSandbox(Isolation.Sandbox.NONE).withMemory(Isolation.Memory.RSS_WATCHDOG);
        try (ContainerFactory factory = TestSupport.factory(none, "ctest-none")) {
            ActionContainer healthy = startNode(factory, IDENTITY);
            try (ActionContainer container = startNode(factory, PROBE)) {
                JsonNode result = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT).result();
                assertThat(result.get("home").asText()).isEqualTo(((ProcessContainer) container).workDir().toString());
            }
            assertHealthy(healthy);
        }
    }

    @Test
    void actionsRunBelowTheZoneInCpuPriority() throws IOException {
        Isolation isolation = TestSupport.strongest();
        assumeTrue(isolation.host().nice().isPresent(), "no nice on this machine");
        try (ContainerFactory factory = TestSupport.factory(isolation, "ctest-nice");
             ActionContainer container = startNode(factory, "function main() { return {nice: require('os').getPriority()}; }")) {
            JsonNode result = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT).result();
            int zone = (int) new ProcessBuilder("nice").start().inputReader().lines().findFirst().map(Integer::parseInt).orElseThrow();
            assertThat(result.get("nice").asInt()).as("the action's niceness").isEqualTo(zone + ContainerFactory.NICENESS);
        }
    }

    private record Sides(JsonNode owner, JsonNode secret, JsonNode neighbour) {}

    /** One container writes into its own folder; another tries to read that file and Petrel's secret. */
    private Sides probeBothWays(ContainerFactory factory) throws IOException {
        ActionContainer healthy = startNode(factory, IDENTITY);
        try (ActionContainer owner = startNode(factory, PROBE); ActionContainer prying = startNode(factory, PROBE)) {
            Path mine = ((ProcessContainer) owner).workDir().resolve("mine.txt");
            JsonNode written = owner.run(run(JSON.createObjectNode().put("write", mine.toString()).put("read", mine.toString())), TIMEOUT, LOG_LIMIT).result();
            assertThat(written.get("read").asText()).isEqualTo("mine");
            JsonNode secretSide = prying.run(run(JSON.createObjectNode().put("read", secret.toString()).put("list", dataFolder.toString())),
                    TIMEOUT, LOG_LIMIT).result();
            JsonNode neighbourSide = prying.run(run(JSON.createObjectNode().put("read", mine.toString())), TIMEOUT, LOG_LIMIT).result();
            assertHealthy(healthy);
            assertThat(Files.readString(secret)).isEqualTo("the store's key");
            return new Sides(written, secretSide, neighbourSide);
        }
        finally {
            healthy.close();
        }
    }

    @Test
    void factoryRefusesAContainersFolderInsideWhatSandboxesSee() {
        Path inside = TestSupport.catalog().launcherDir().resolve("containers");
        assertThatThrownBy(() -> new ContainerFactory(TestSupport.catalog(), inside, TestSupport.strongest(), "ctest-bad"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void separateUsersNeedAReachableContainersFolder() throws IOException {
        Isolation strongest = TestSupport.strongest();
        assumeTrue(strongest.separateUsers(), "containers do not run as users of their own here");
        Path hidden = Files.createTempDirectory("petrel-hidden-");
        try {
            assertThatThrownBy(() -> new ContainerFactory(TestSupport.catalog(), hidden.resolve("containers"), strongest, "ctest-hidden"))
                    .rootCause().hasMessageContaining("not searchable by others");
        }
        finally {
            ProcessContainer.deleteTree(hidden);
        }
    }

    @Test
    void unknownKindAndImpossibleConcurrency() {
        try (ContainerFactory factory = TestSupport.factory(TestSupport.strongest(), "ctest-args")) {
            assertThatThrownBy(() -> factory.start("cobol:85", 256, 1, Map.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown kind");
            TestSupport.catalog().resolve("python:default").ifPresent(python ->
                    assertThatThrownBy(() -> factory.start(python.kind(), 256, 2, Map.of()))
                            .isInstanceOf(IllegalArgumentException.class));
        }
    }
}
