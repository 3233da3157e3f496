package io.petrel.cli;

import io.petrel.api.OpenWhiskApi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@code openwhisk} npm client, as Node.js users run it, against a region started by
 * {@code petrel up}: the script {@code src/test/js/entities.js} creates, reads, updates, lists and
 * deletes every kind of entity with the guest key and fails on the first answer that differs.
 */
class NpmClientTest {
    private static final String CLIENT = "openwhisk@3.21.9";
    private Path data;
    private String ipPrefix;

    @BeforeEach
    void setUp() throws Exception {
        data = PetrelCli.freshDataDir("petrel-npm-test");
        ipPrefix = "127." + ThreadLocalRandom.current().nextInt(100, 250);
    }

    @AfterEach
    void tearDown() throws Exception {
        PetrelCli.downAndDelete(data);
    }

    @Test
    void theOpenWhiskNpmClientManagesEveryKindOfEntity() throws Exception {
        assumeTrue(onPath("node") && onPath("npm"), "node and npm are not installed on this machine");
        Path modules = installClient();

        PetrelCli.Result up = PetrelCli.run("up", "--data", data.toString(), "--ip-prefix", ipPrefix);
        assertThat(up.code()).as(up.out() + up.err()).isZero();

        Path script = Path.of("src/test/js/entities.js").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder("node", script.toString()).redirectErrorStream(true);
        pb.environment().put("NODE_PATH", modules.toString());
        pb.environment().put("OW_APIHOST", "http://" + ipPrefix + ".0.1:3233");
        pb.environment().put("OW_AUTH", OpenWhiskApi.GUEST_AUTH);
        long started = System.nanoTime();
        Process node = pb.start();
        String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean exited = node.waitFor(120, TimeUnit.SECONDS);
        System.out.print(output);
        System.out.printf("MEASURED openwhisk npm client script took %d ms%n", (System.nanoTime() - started) / 1_000_000);
        assertThat(exited).as("the script finished").isTrue();
        assertThat(node.exitValue()).as(output).isZero();
        assertThat(output).contains("all openwhisk npm client checks passed");
    }

    /** Installs the client once per machine (it is not part of the build) and returns its node_modules. */
    private static Path installClient() throws IOException, InterruptedException {
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "petrel-npm", CLIENT.replace('@', '-'));
        Path modules = cache.resolve("node_modules");
        if (Files.exists(modules.resolve("openwhisk").resolve("package.json"))) {
            return modules;
        }
        Files.createDirectories(cache);
        Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--prefix", cache.toString(), CLIENT)
                .redirectErrorStream(true).start();
        String out = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(npm.waitFor(180, TimeUnit.SECONDS)).as("npm install finished").isTrue();
        assertThat(npm.exitValue()).as("npm install " + CLIENT + " (needs the npm registry):\n" + out).isZero();
        return modules;
    }

    private static boolean onPath(String command) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
    }
}
