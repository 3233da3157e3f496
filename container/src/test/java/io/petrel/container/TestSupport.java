package io.petrel.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.runtimes.RuntimeCatalog;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the tests share: one catalog and one isolation probe per test JVM (both start real processes), folders
 * under /tmp that container uids can reach, and small helpers to speak to containers.
 */
final class TestSupport {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final long LOG_LIMIT = 10L * 1024 * 1024;
    static final String IDENTITY = "function main(params) { return params; }";
    static final String LOG_LINE = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z (stdout|stderr): .*";

    private static final class Holder {
        static final Path ROOT = createRoot();
        static final RuntimeCatalog CATALOG = detectCatalog();
        static final Isolation ISOLATION = ContainerFactory.detectIsolation();
    }

    private TestSupport() {}

    static RuntimeCatalog catalog() {
        return Holder.CATALOG;
    }

    static Isolation strongest() {
        return Holder.ISOLATION;
    }

    /** A new folder under the tests' root, which every uid can reach. */
    static Path newDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory(Holder.ROOT, prefix);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ContainerFactory factory(Isolation isolation, String zone) {
        return new ContainerFactory(catalog(), newDir("containers-"), isolation, zone);
    }

    static String nodeKind() {
        return catalog().resolve("nodejs:default").orElseThrow().kind();
    }

    static InitMessage init(String code) {
        return new InitMessage("/test/pkg/action", "main", Optional.of(code), false, Map.of());
    }

    static InitMessage init(String code, Map<String, String> env) {
        return new InitMessage("/test/pkg/action", "main", Optional.of(code), false, env);
    }

    static InitMessage binaryInit(byte[] archive, String main) {
        return new InitMessage("/test/pkg/action", main, Optional.of(Base64.getEncoder().encodeToString(archive)), true, Map.of());
    }

    static RunMessage run(JsonNode value) {
        return run(value, Optional.empty());
    }

    static RunMessage run(JsonNode value, Optional<String> apiKey) {
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong())
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        return new RunMessage(value, "test", "/test/pkg/action", "0.0.1", id, "tid-" + id.substring(0, 8),
                System.currentTimeMillis() + TIMEOUT.toMillis(), apiKey);
    }

    static ObjectNode object(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ActionContainer startNode(ContainerFactory factory, String code) throws IOException {
        ActionContainer container = factory.start(nodeKind(), 256, 1, Map.of());
        Outcome init = container.init(init(code), TIMEOUT);
        assertThat(init.statusCode()).as("init: %s", init.result()).isZero();
        return container;
    }

    /** A container that still answers an identity run correctly: the one that misbehaved did not disturb it. */
    static void assertHealthy(ActionContainer container) {
        ObjectNode value = JSON.createObjectNode().put("ping", ThreadLocalRandom.current().nextInt());
        Outcome outcome = container.run(run(value), TIMEOUT, LOG_LIMIT);
        assertThat(outcome.statusCode()).as("healthy container: %s", outcome.result()).isZero();
        assertThat(outcome.result()).isEqualTo(value);
        assertThat(container.usable()).isTrue();
    }

    static String error(Outcome outcome) {
        return outcome.result().path("error").asText();
    }

    static byte[] zip(Map<String, String> files) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, String> file : files.entrySet()) {
                out.putNextEntry(new ZipEntry(file.getKey()));
                out.write(file.getValue().getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Map<String, String> files(String... namesAndContents) {
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < namesAndContents.length; i += 2) {
            files.put(namesAndContents[i], namesAndContents[i + 1]);
        }
        return files;
    }

    /** Host processes whose command line is exactly {@code argv}. */
    static List<Long> processesRunning(String... argv) {
        String wanted = String.join("\0", argv) + "\0";
        return ProcessHandle.allProcesses()
                .filter(handle -> {
                    try {
                        return new String(Files.readAllBytes(Path.of("/proc", Long.toString(handle.pid()), "cmdline")), StandardCharsets.UTF_8)
                                .equals(wanted);
                    }
                    catch (IOException e) {
                        return false;
                    }
                })
                .map(ProcessHandle::pid)
                .toList();
    }

    /** Host processes whose command line contains {@code text}. */
    static List<Long> processesWith(String text) {
        return ProcessHandle.allProcesses()
                .filter(handle -> {
                    try {
                        byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(handle.pid()), "cmdline"));
                        return new String(cmdline, StandardCharsets.UTF_8).replace('\0', ' ').contains(text);
                    }
                    catch (IOException e) {
                        return false;
                    }
                })
                .map(ProcessHandle::pid)
                .toList();
    }

    private static Path createRoot() {
        try {
            // Not a JUnit @TempDir: that is mode 0700, which a container's own uid could not pass through.
            Path root = Files.createTempDirectory(Path.of("/tmp"), "petrel-container-tests-");
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    ProcessContainer.deleteTree(root);
                }
                catch (IOException ignored) {
                    // /tmp is cleaned by the machine in the end.
                }
            }));
            return root;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static RuntimeCatalog detectCatalog() {
        try {
            return RuntimeCatalog.detect(Holder.ROOT.resolve("launchers"));
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
