package io.petrel.runtimes;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class JavaLauncherTest extends LauncherContract {
    private static final String HELLO = """
            package com.example;

            import com.google.gson.JsonObject;

            public class Hello {
                public static JsonObject main(JsonObject params) {
                    String mode = params.has("mode") ? params.get("mode").getAsString() : "";
                    switch (mode) {
                        case "throw": throw new IllegalStateException("boom");
                        case "number": case "none": return null;
                        case "env": {
                            JsonObject env = new JsonObject();
                            env.addProperty("init", System.getenv("PETREL_INIT"));
                            env.addProperty("activation", System.getenv("__OW_ACTIVATION_ID"));
                            env.addProperty("apiKey", System.getenv("__OW_API_KEY"));
                            env.addProperty("namespace", System.getenv("__OW_NAMESPACE"));
                            env.addProperty("actionName", System.getenv("__OW_ACTION_NAME"));
                            env.addProperty("deadline", System.getenv("__OW_DEADLINE"));
                            return env;
                        }
                        case "log": {
                            System.out.println("out: " + params.get("text").getAsString());
                            System.err.println("err: " + params.get("text").getAsString());
                            JsonObject logged = new JsonObject();
                            logged.addProperty("logged", true);
                            return logged;
                        }
                        case "nan": {
                            JsonObject nan = new JsonObject();
                            nan.addProperty("x", Double.NaN);
                            return nan;
                        }
                        default: return params;
                    }
                }

                public static JsonObject other(JsonObject params) {
                    JsonObject answer = new JsonObject();
                    answer.addProperty("main", "other");
                    answer.add("value", params);
                    return answer;
                }

                // Sleeps, then tells which activation it thinks it serves.
                public static JsonObject slow(JsonObject params) throws InterruptedException {
                    Thread.sleep(params.get("delay").getAsLong());
                    JsonObject answer = new JsonObject();
                    answer.addProperty("n", params.get("n").getAsInt());
                    answer.addProperty("activation", System.getProperty("__OW_ACTIVATION_ID"));
                    return answer;
                }
            }
            """;

    private static final String ARCHIVE = """
            package com.example.archive;

            import com.example.archive.util.Helper;
            import com.google.gson.JsonObject;

            public class Main {
                public static JsonObject main(JsonObject params) throws Exception {
                    JsonObject answer = new JsonObject();
                    answer.addProperty("from", "archive");
                    answer.addProperty("helper", Helper.help());
                    answer.add("value", params);
                    return answer;
                }
            }
            """;

    private static final String HELPER = """
            package com.example.archive.util;

            import java.nio.charset.StandardCharsets;

            public class Helper {
                // A resource of the jar, through the context class loader as libraries look for theirs.
                public static String help() throws Exception {
                    try (var in = Thread.currentThread().getContextClassLoader().getResourceAsStream("helper.txt")) {
                        return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                    }
                }
            }
            """;

    @TempDir
    static Path jars;

    private static Path helloJar;
    private static Path archiveJar;

    @BeforeAll
    static void compileActions() throws IOException {
        Path gson = TestCatalog.get().launcherDir().resolve("java/gson.jar");
        helloJar = compileJar(gson, jars.resolve("hello"), Map.of("com.example.Hello", HELLO), Map.of());
        archiveJar = compileJar(gson, jars.resolve("archive"),
                Map.of("com.example.archive.Main", ARCHIVE, "com.example.archive.util.Helper", HELPER),
                Map.of("helper.txt", "helped\n"));
    }

    static Path compileJar(Path gson, Path dir, Map<String, String> sources, Map<String, String> resources) throws IOException {
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        List<JavaFileObject> units = new ArrayList<>();
        sources.forEach((name, text) -> units.add(new SimpleJavaFileObject(
                URI.create("string:///" + name.replace('.', '/') + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return text;
            }
        }));
        StringWriter diagnostics = new StringWriter();
        boolean compiled = compiler.getTask(diagnostics, null, null,
                List.of("--release", "21", "-proc:none", "-cp", gson.toString(), "-d", classes.toString()), null, units).call();
        assertThat(compiled).as("javac: %s", diagnostics).isTrue();
        Path jar = dir.resolve("action.jar");
        try (OutputStream file = Files.newOutputStream(jar);
             JarOutputStream out = new JarOutputStream(file);
             Stream<Path> files = Files.walk(classes)) {
            for (Path path : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(path).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(path));
                out.closeEntry();
            }
            for (Map.Entry<String, String> resource : resources.entrySet()) {
                out.putNextEntry(new JarEntry(resource.getKey()));
                out.write(resource.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return jar;
    }

    static JsonObject jar(Path jar, String main) {
        JsonObject init = new JsonObject();
        init.addProperty("name", "/guest/pkg/act");
        init.addProperty("main", main);
        init.add("code", com.google.gson.JsonNull.INSTANCE);
        init.addProperty("path", jar.toString());
        init.add("env", new JsonObject());
        return init;
    }

    @Override
    String family() {
        return "java";
    }

    @Override
    JsonObject kitchenSink() {
        return jar(helloJar, "com.example.Hello");
    }

    @Override
    JsonObject otherMain() {
        return jar(helloJar, "com.example.Hello#other");
    }

    @Override
    JsonObject archive(Path dir) {
        return jar(archiveJar, "com.example.archive.Main");
    }

    @Override
    String boomError() {
        return "An error has occurred: java.lang.IllegalStateException: boom";
    }

    @Override
    String missingMain() {
        return "com.example.NoSuchClass";
    }

    @Test
    void refusesPlainCodeAndAMissingMethod() throws Exception {
        try (ActionProcess process = start()) {
            assertThat(process.init(NodeLauncherTest.code("public class Hello {}", "Hello")))
                    .isEqualTo(json("{\"error\":\"A java action needs a jar: send the code as a base64 jar (binary).\"}"));
            assertThat(process.closeStdinAndWait()).isZero();
        }
        try (ActionProcess process = start()) {
            assertThat(process.init(jar(helloJar, "com.example.Hello#nope")).get("error").getAsString())
                    .isEqualTo("The action's class com.example.Hello has no method public static JsonObject nope(JsonObject).");
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void answersConcurrentRunsAsTheyFinishEachWithItsOwnActivation() throws Exception {
        try (ActionProcess process = start(concurrentEnv())) {
            initOk(process, jar(helloJar, "com.example.Hello#slow"));
            JsonObject slow = runMessage(json("{\"n\":1,\"delay\":1500}"));
            JsonObject fast = runMessage(json("{\"n\":2,\"delay\":0}"));
            process.sendRun(slow);
            process.sendRun(fast);
            String fastId = fast.get("activation_id").getAsString();
            String slowId = slow.get("activation_id").getAsString();
            assertThat(process.answer()).isEqualTo(json("{\"id\":\"" + fastId + "\",\"result\":{\"n\":2,\"activation\":\"" + fastId + "\"}}"));
            assertThat(process.answer()).isEqualTo(json("{\"id\":\"" + slowId + "\",\"result\":{\"n\":1,\"activation\":\"" + slowId + "\"}}"));
            assertThat(process.pendingStdout(java.time.Duration.ofMillis(200))).isEmpty();
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void answersANonJsonNumberAsAnError() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, kitchenSink());
            assertThat(process.run(runMessage(mode("nan"))).error()).startsWith("An error has occurred: java.lang.IllegalArgumentException");
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }
}
