package io.petrel.runtimes;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.petrel.runtimes.ActionProcess.Activation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every launcher must do, per runtimes/README.md "The action loop". A subclass supplies the
 * same small actions in its language:
 * <ul>
 *   <li>the kitchen sink: {@code main(params)} answers by {@code params.mode}: none → params;
 *       {@code throw} → throws "boom"; {@code number} → 42 (java: null); {@code none} → nothing;
 *       {@code env} → {@code init, activation, apiKey, namespace, actionName, deadline} read from
 *       {@code PETREL_INIT} and the {@code __OW_*} values; {@code log} → prints {@code out: <text>} on
 *       stdout and {@code err: <text>} on stderr and answers {@code {"logged":true}};</li>
 *   <li>a non-default main, {@code other}, answering {@code {"main":"other","value":params}};</li>
 *   <li>an archive answering {@code {"from":"archive","helper":"helped","value":params}}.</li>
 * </ul>
 */
abstract class LauncherContract {
    static final String NOT_A_DICTIONARY = "The action did not return a dictionary or array.";

    @TempDir
    Path work;

    private int activations;

    abstract String family();

    abstract JsonObject kitchenSink() throws IOException;

    abstract JsonObject otherMain() throws IOException;

    /** Lays an archive out under {@code dir} as the container would have unpacked it. */
    abstract JsonObject archive(Path dir) throws IOException;

    abstract String boomError();

    RuntimeKind kind() {
        return TestCatalog.kind(family());
    }

    ActionProcess start() throws IOException {
        return start(Map.of());
    }

    ActionProcess start(Map<String, String> env) throws IOException {
        Path dir = Files.createDirectories(work.resolve("container"));
        return ActionProcess.start(TestCatalog.get().command(kind(), 256), dir, env);
    }

    JsonObject runMessage(JsonObject value) {
        JsonObject run = new JsonObject();
        run.add("value", value);
        run.addProperty("namespace", "guest");
        run.addProperty("action_name", "/guest/pkg/act");
        run.addProperty("action_version", "0.0.1");
        run.addProperty("activation_id", String.format("%032x", ++activations));
        run.addProperty("transaction_id", "tid-" + activations);
        run.addProperty("deadline", "1700000000000");
        return run;
    }

    static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    static JsonObject mode(String mode) {
        JsonObject value = new JsonObject();
        value.addProperty("mode", mode);
        return value;
    }

    static JsonObject withMain(JsonObject init, String main) {
        JsonObject copy = init.deepCopy();
        copy.addProperty("main", main);
        return copy;
    }

    static String string(JsonElement object, String member) {
        JsonElement element = object.getAsJsonObject().get(member);
        return element == null || element.isJsonNull() ? null : element.getAsString();
    }

    Activation okRun(ActionProcess process, JsonObject run) throws IOException {
        Activation activation = process.run(run);
        assertThat(activation.answer().get("id").getAsString()).isEqualTo(run.get("activation_id").getAsString());
        assertThat(activation.error()).as("error of %s", run).isNull();
        return activation;
    }

    void initOk(ActionProcess process, JsonObject init) throws IOException {
        assertThat(process.init(init)).isEqualTo(json("{\"ok\":true}"));
    }

    @Test
    void echoesParametersUnicodeAndNearlyAMegabyte() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, kitchenSink());

            JsonObject plain = json("{\"hello\":\"world\",\"n\":1,\"big\":12345678901234567890,\"x\":1.5,\"t\":true,\"nothing\":null,\"list\":[1,\"two\",{\"three\":[]}],\"nested\":{\"a\":{}}}");
            Activation echoed = okRun(process, runMessage(plain));
            assertThat(echoed.result()).isEqualTo(plain);
            assertThat(echoed.stdout()).isEmpty();
            assertThat(echoed.stderr()).isEmpty();

            JsonObject unicode = new JsonObject();
            unicode.addProperty("text", "héllo wörld 😀🎉 日本語 中文 한국어 Ελληνικά");
            unicode.addProperty("family", "👩‍👩‍👧");
            unicode.addProperty("breaks", "a\nb\r\nc\u2028d\u2029e\t\"quoted\" \\ \u0000 \u001f end");
            unicode.addProperty("ключ 🔑", "value");
            assertThat(okRun(process, runMessage(unicode)).result()).isEqualTo(unicode);

            char[] chunk = "0123456789abcdé日😀".toCharArray();
            StringBuilder big = new StringBuilder(1_000_000);
            while (big.length() < 990_000) {
                big.append(chunk);
            }
            JsonObject large = new JsonObject();
            large.addProperty("big", big.toString());
            assertThat(large.toString().getBytes(StandardCharsets.UTF_8).length).isBetween(1_000_000, 1_300_000);
            assertThat(okRun(process, runMessage(large)).result()).isEqualTo(large);

            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void answersFailuresAsErrorsAndGoesOn() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, kitchenSink());
            Activation thrown = process.run(runMessage(mode("throw")));
            assertThat(thrown.error()).isEqualTo(boomError());
            assertThat(thrown.answer().get("id").getAsString()).isEqualTo(String.format("%032x", activations));
            assertThat(thrown.answer().has("result")).isFalse();
            // the launcher prints nothing of its own: the error is in the answer only
            assertThat(thrown.stdout()).isEmpty();
            assertThat(thrown.stderr()).isEmpty();

            assertThat(process.run(runMessage(mode("number"))).error()).isEqualTo(NOT_A_DICTIONARY);
            assertThat(process.run(runMessage(mode("none"))).error()).isEqualTo(NOT_A_DICTIONARY);

            JsonObject value = json("{\"still\":\"alive\"}");
            assertThat(okRun(process, runMessage(value)).result()).isEqualTo(value);
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void initEnvAndActivationValuesAreVisible() throws Exception {
        try (ActionProcess process = start()) {
            JsonObject init = kitchenSink();
            init.add("env", json("{\"PETREL_INIT\":\"from init ✓\"}"));
            initOk(process, init);

            JsonObject run = runMessage(mode("env"));
            run.addProperty("api_key", "uuid:secret");
            JsonElement result = okRun(process, run).result();
            assertThat(string(result, "init")).isEqualTo("from init ✓");
            assertThat(string(result, "activation")).isEqualTo(run.get("activation_id").getAsString());
            assertThat(string(result, "apiKey")).isEqualTo("uuid:secret");
            assertThat(string(result, "namespace")).isEqualTo("guest");
            assertThat(string(result, "actionName")).isEqualTo("/guest/pkg/act");
            assertThat(string(result, "deadline")).isEqualTo("1700000000000");

            // The next activation sends no api_key: it must not see the previous one's.
            JsonObject next = runMessage(mode("env"));
            JsonElement nextResult = okRun(process, next).result();
            assertThat(string(nextResult, "activation")).isEqualTo(next.get("activation_id").getAsString());
            assertThat(string(nextResult, "apiKey")).isNull();
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void writesTheActionsLogsThenAMarkerOnEachStream() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, kitchenSink());
            for (String text : new String[] {"one", "two ✓", "three"}) {
                JsonObject value = mode("log");
                value.addProperty("text", text);
                Activation logged = okRun(process, runMessage(value));
                assertThat(logged.result()).isEqualTo(json("{\"logged\":true}"));
                assertThat(logged.stdout()).containsExactly("out: " + text);
                assertThat(logged.stderr()).containsExactly("err: " + text);
            }
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void refusesASecondInitAndKeepsServing() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, kitchenSink());
            assertThat(process.init(otherMain())).isEqualTo(json("{\"error\":\"Cannot initialize the action more than once.\"}"));
            JsonObject value = json("{\"same\":\"action\"}");
            assertThat(okRun(process, runMessage(value)).result()).isEqualTo(value);
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void callsANonDefaultMain() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, otherMain());
            JsonObject value = json("{\"a\":1}");
            JsonElement result = okRun(process, runMessage(value)).result();
            assertThat(result).isEqualTo(json("{\"main\":\"other\",\"value\":{\"a\":1}}"));
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void runsAnArchive() throws Exception {
        JsonObject init = archive(Files.createDirectories(work.resolve("archive")));
        try (ActionProcess process = start()) {
            initOk(process, init);
            JsonObject value = json("{\"b\":[true]}");
            JsonElement result = okRun(process, runMessage(value)).result();
            assertThat(result).isEqualTo(json("{\"from\":\"archive\",\"helper\":\"helped\",\"value\":{\"b\":[true]}}"));
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void answersAnInitErrorForAMissingMainOrNoCode() throws Exception {
        try (ActionProcess process = start()) {
            JsonObject answer = process.init(withMain(kitchenSink(), missingMain()));
            assertThat(answer.keySet()).containsExactly("error");
            assertThat(answer.get("error").getAsString()).contains(missingMain());
            Activation run = process.run(runMessage(new JsonObject()));
            assertThat(run.error()).isEqualTo("The action failed to initialize.");
            assertThat(process.closeStdinAndWait()).isZero();
        }
        try (ActionProcess process = start()) {
            assertThat(process.init(json("{\"name\":\"/guest/empty\",\"main\":\"main\",\"code\":null,\"path\":null,\"env\":{}}")))
                    .isEqualTo(json("{\"error\":\"Missing main/no code to execute.\"}"));
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void refusesAnAnswerChannelThatIsARegularFile() throws Exception {
        Path file = Files.writeString(work.resolve("not-a-pipe"), "keep\n");
        Path input = Files.writeString(work.resolve("input"), "{\"init\":" + kitchenSink() + "}\n");
        List<String> argv = new ArrayList<>(List.of("/bin/bash", "-c", "exec \"$@\" 3>>\"$0\"", file.toString()));
        argv.addAll(TestCatalog.get().command(kind(), 256));
        assertThat(exitStatus(argv, input)).isEqualTo(2);
        assertThat(Files.readString(file)).isEqualTo("keep\n");
    }

    /** Runs {@code argv} from the work dir with a clean environment and {@code input} on stdin. */
    int exitStatus(List<String> argv, Path input) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("container"));
        ProcessBuilder builder = new ProcessBuilder(argv).directory(dir.toFile())
                .redirectInput(input.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin");
        Process process = builder.start();
        assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return process.exitValue();
    }

    String missingMain() {
        return "noSuchMain";
    }

    /** Start to first init answer, and to the first run's answer, best of three: written to target/ for the README. */
    @Test
    void startsAndInitializesQuickly() throws Exception {
        long[] initMillis = new long[3];
        long[] runMillis = new long[3];
        for (int i = 0; i < initMillis.length; i++) {
            try (ActionProcess process = start()) {
                initOk(process, kitchenSink());
                initMillis[i] = process.elapsedMillis();
                okRun(process, runMessage(json("{\"warm\":false}")));
                runMillis[i] = process.elapsedMillis();
                assertThat(process.closeStdinAndWait()).isZero();
            }
        }
        Arrays.sort(initMillis);
        Arrays.sort(runMillis);
        String line = String.format("%s: start to init answer %d ms (median %d), to first run answer %d ms (median %d)%n",
                kind().kind(), initMillis[0], initMillis[1], runMillis[0], runMillis[1]);
        System.out.print(line);
        Files.writeString(Path.of("target", "startup-times.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        assertThat(initMillis[0]).isLessThan(10_000);
    }

    static Map<String, String> concurrentEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("__OW_ALLOW_CONCURRENT", "true");
        return env;
    }
}
