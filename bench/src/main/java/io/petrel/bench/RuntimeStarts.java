package io.petrel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.runtimes.RuntimeCatalog;
import io.petrel.runtimes.RuntimeKind;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

import static java.util.Objects.requireNonNull;

/**
 * The floor of a container start: the same launchers and the same trivial actions started straight
 * from this process (no sandbox, cgroup, pool, API or store). Two ways, as the platform's two starts:
 * <ul>
 *   <li><b>cold</b>: start the launcher, init, run; timed from the process start;</li>
 *   <li><b>idle launcher</b>: start the launcher, let it sit {@code idleMillis} (its interpreter is up,
 *       as a prewarmed container's is), then init and run; timed from the init.</li>
 * </ul>
 */
final class RuntimeStarts {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One floor sample. */
    record Sample(String kind, String how, double millis, double initMillis) {
    }

    private final RuntimeCatalog catalog;
    private final Path scratch;
    private final byte[] javaJar;

    RuntimeStarts(RuntimeCatalog catalog, Path scratch, byte[] javaJar) {
        this.catalog = requireNonNull(catalog, "catalog");
        this.scratch = requireNonNull(scratch, "scratch");
        this.javaJar = requireNonNull(javaJar, "javaJar").clone();
    }

    List<Sample> run(List<String> kinds, int samples, long idleMillis) throws Exception {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            for (String kind : kinds) {
                out.add(once(kind, "cold", i, 0));
                out.add(once(kind, "idle launcher", i, idleMillis));
            }
        }
        return out;
    }

    private Sample once(String family, String how, int i, long idleMillis) throws Exception {
        RuntimeKind kind = catalog.resolve(family + ":default")
                .orElseThrow(() -> new IllegalStateException("this machine has no " + family + " kind: " + catalog.kinds()));
        Path dir = scratch.resolve(family + "-" + (idleMillis == 0 ? "cold" : "idle") + "-" + i);
        Files.createDirectories(dir);
        ObjectNode init = JSON.createObjectNode();
        init.put("name", "/" + InvokeBench.NAMESPACE + "/floor-" + family);
        switch (family) {
            case "nodejs" -> init.put("main", "main").put("code", InvokeBench.NOOP_CODE).putNull("path");
            case "python" -> init.put("main", "main").put("code", InvokeStarts.PYTHON_CODE).putNull("path");
            case "java" -> {
                // As a container does with a jar: written into its work directory, the init names the file.
                Path jar = dir.resolve("action.jar");
                Files.write(jar, javaJar);
                init.put("main", "bench.Noop").putNull("code").put("path", jar.toString());
            }
            default -> throw new IllegalArgumentException("no floor action for kind " + family);
        }
        init.putObject("env");
        byte[] id = new byte[16];
        ThreadLocalRandom.current().nextBytes(id);
        String activation = HexFormat.of().formatHex(id);
        long t0 = System.nanoTime();
        try (RuntimeProcess launcher = RuntimeProcess.start(catalog.command(kind, 256), dir)) {
            if (idleMillis > 0) {
                Thread.sleep(idleMillis);
                t0 = System.nanoTime();
            }
            long i0 = System.nanoTime();
            launcher.init(init);
            double initMillis = (System.nanoTime() - i0) / 1e6;
            if (!launcher.run(RuntimeProcess.runLine(InvokeBench.NAMESPACE, "/" + InvokeBench.NAMESPACE + "/floor-" + family, activation, i), activation)
                    .path("ok").asBoolean(false)) {
                throw new IOException("the " + family + " floor action did not answer {ok:true}");
            }
            double millis = (System.nanoTime() - t0) / 1e6;
            System.out.printf(Locale.ROOT, "  floor %-6s %-13s %7.1f ms (init %.1f ms)%n", family, how, millis, initMillis);
            return new Sample(family, how, millis, initMillis);
        }
    }
}
