package io.petrel.container;

import org.junit.jupiter.api.Test;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static io.petrel.container.TestSupport.IDENTITY;
import static io.petrel.container.TestSupport.JSON;
import static io.petrel.container.TestSupport.LOG_LIMIT;
import static io.petrel.container.TestSupport.assertHealthy;
import static io.petrel.container.TestSupport.run;
import static io.petrel.container.TestSupport.startNode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A Java action: a jar compiled here, against Gson, run by the JVM launcher inside the sandbox. */
class JavaContainerTest {
    @Test
    void identityFromAJar() throws Exception {
        assumeTrue(TestSupport.catalog().resolve("java:default").isPresent(), "no java kind on this machine");
        byte[] jar = compileJar("Identity", """
                import com.google.gson.JsonObject;
                public class Identity {
                    public static JsonObject main(JsonObject args) {
                        System.out.println("java says " + args.get("text").getAsString());
                        return args;
                    }
                }
                """);
        try (ContainerFactory factory = TestSupport.factory(TestSupport.strongest(), "ctest-java")) {
            ActionContainer healthy = startNode(factory, IDENTITY);
            ActionContainer container = factory.start("java:default", 256, 1, Map.of());
            Outcome init = container.init(TestSupport.binaryInit(jar, "Identity"), Duration.ofSeconds(30));
            assertThat(init.statusCode()).as("%s %s", init.result(), init.logs()).isZero();
            String text = "Grüße ✓";
            Outcome outcome = container.run(run(JSON.createObjectNode().put("text", text)), Duration.ofSeconds(30), LOG_LIMIT);
            assertThat(outcome.statusCode()).as("%s", outcome.result()).isZero();
            assertThat(outcome.result()).isEqualTo(JSON.createObjectNode().put("text", text));
            assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stdout: java says " + text));
            container.close();
            assertHealthy(healthy);
        }
    }

    static byte[] compileJar(String className, String source) throws IOException {
        Path dir = TestSupport.newDir("java-action-");
        Path file = dir.resolve(className + ".java");
        Files.writeString(file, source);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        // The launchers folder has the Gson jar that java actions are written against.
        String gson = TestSupport.catalog().launcherDir().resolve("java").resolve("gson.jar").toString();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int status = compiler.run(null, null, errors, "--release", "21", "-cp", gson, "-d", dir.toString(), file.toString());
        assertThat(status).as(errors.toString(StandardCharsets.UTF_8)).isZero();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes)) {
            out.putNextEntry(new JarEntry(className + ".class"));
            out.write(Files.readAllBytes(dir.resolve(className + ".class")));
            out.closeEntry();
        }
        return bytes.toByteArray();
    }
}
