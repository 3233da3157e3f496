package io.petrel.cli;

import io.petrel.api.OpenWhiskApi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@code openwhisk} npm client, as Node.js users run it, against a region started by
 * {@code petrel up}: the script {@code src/test/js/entities.js} creates, reads, updates, lists and
 * deletes every kind of entity with the guest key, and {@code invocations.js} runs a zipped Node.js
 * action and a sequence over {@code /whisk.system/utils/echo}; each fails on the first answer that differs.
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
        Path modules = upWithClient();
        runScript("entities.js", modules, Map.of(), "all openwhisk npm client checks passed");
    }

    @Test
    void theOpenWhiskNpmClientRunsAZippedActionAndASequence() throws Exception {
        Path modules = upWithClient();
        Path zip = data.resolve("npm-action.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("package.json"));
            out.write("{\"name\": \"npm-zipped\", \"main\": \"lib/greet.js\"}".getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new ZipEntry("lib/greet.js"));
            out.write(("exports.main = function (params) {\n  console.log('greeting ' + params.name);\n"
                    + "  return { greeting: 'hello ' + params.name, from: 'zip' };\n};\n").getBytes(StandardCharsets.UTF_8));
        }
        runScript("invocations.js", modules, Map.of("ZIP_PATH", zip.toString()), "all openwhisk npm invocation checks passed");
    }

    /** Installs the client (once per machine) and starts a region with {@code petrel up}; returns the client's node_modules. */
    private Path upWithClient() throws Exception {
        assumeTrue(onPath("node") && onPath("npm"), "node and npm are not installed on this machine");
        Path modules = installClient();
        PetrelCli.Result up = PetrelCli.run("up", "--data", data.toString(), "--ip-prefix", ipPrefix);
        assertThat(up.code()).as(up.out() + up.err()).isZero();
        return modules;
    }

    /** Runs {@code src/test/js/<script>} against the region with the guest key; it must end with {@code passed}. */
    private void runScript(String script, Path modules, Map<String, String> env, String passed) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("node", Path.of("src/test/js", script).toAbsolutePath().toString()).redirectErrorStream(true);
        pb.environment().put("NODE_PATH", modules.toString());
        pb.environment().put("OW_APIHOST", "http://" + ipPrefix + ".0.1:3233");
        pb.environment().put("OW_AUTH", OpenWhiskApi.GUEST_AUTH);
        pb.environment().putAll(env);
        long started = System.nanoTime();
        Process node = pb.start();
        String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean exited = node.waitFor(180, TimeUnit.SECONDS);
        System.out.print(output);
        System.out.printf("MEASURED openwhisk npm client script %s took %d ms%n", script, (System.nanoTime() - started) / 1_000_000);
        assertThat(exited).as("the script finished").isTrue();
        assertThat(node.exitValue()).as(output).isZero();
        assertThat(output).contains(passed);
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
