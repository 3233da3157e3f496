package io.petrel.runtimes;

import com.google.gson.JsonObject;
import io.petrel.runtimes.ActionProcess.Activation;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class NodeLauncherTest extends LauncherContract {
    // A top-level function, not exported: the launcher must find it anyway.
    private static final String KITCHEN_SINK = """
            const os = require('os');
            function main(params) {
              switch (params.mode) {
                case 'throw': throw new Error('boom');
                case 'number': return 42;
                case 'none': return;
                case 'env': return {
                  init: process.env.PETREL_INIT,
                  activation: process.env.__OW_ACTIVATION_ID,
                  apiKey: process.env.__OW_API_KEY,
                  namespace: process.env.__OW_NAMESPACE,
                  actionName: process.env.__OW_ACTION_NAME,
                  deadline: process.env.__OW_DEADLINE,
                };
                case 'log':
                  console.log('out: ' + params.text);
                  console.error('err: ' + params.text);
                  return { logged: true };
                default: return params;
              }
            }
            // a trailing comment without a newline""";

    private static final String OTHER = """
            exports.other = (params) => ({ main: 'other', value: params });
            exports.main = () => { throw new Error('not this one'); };
            """;

    @Override
    String family() {
        return "nodejs";
    }

    @Override
    JsonObject kitchenSink() {
        return code(KITCHEN_SINK, "main");
    }

    @Override
    JsonObject otherMain() {
        return code(OTHER, "other");
    }

    static JsonObject code(String code, String main) {
        JsonObject init = new JsonObject();
        init.addProperty("name", "/guest/pkg/act");
        init.addProperty("main", main);
        init.addProperty("code", code);
        init.add("env", new JsonObject());
        return init;
    }

    @Override
    JsonObject archive(Path dir) throws IOException {
        Files.writeString(dir.resolve("package.json"), "{\"name\":\"act\",\"main\":\"lib/entry.js\"}");
        Files.createDirectories(dir.resolve("lib"));
        Files.writeString(dir.resolve("lib/entry.js"), """
                const helper = require('helper');
                module.exports.main = async (params) => ({ from: 'archive', helper: helper(), value: params });
                """);
        Files.createDirectories(dir.resolve("node_modules/helper"));
        Files.writeString(dir.resolve("node_modules/helper/index.js"), "module.exports = () => 'helped';\n");
        JsonObject init = new JsonObject();
        init.addProperty("name", "/guest/pkg/act");
        init.addProperty("main", "main");
        init.addProperty("path", dir.toString());
        return init;
    }

    @Override
    String boomError() {
        return "An error has occurred: Error: boom";
    }

    @Test
    void answersConcurrentRunsAsTheyFinish() throws Exception {
        try (ActionProcess process = start(concurrentEnv())) {
            initOk(process, code("""
                    async function main(params) {
                      await new Promise((resolve) => setTimeout(resolve, params.delay));
                      return { n: params.n };
                    }
                    """, "main"));
            JsonObject slow = runMessage(json("{\"n\":1,\"delay\":1500}"));
            JsonObject fast = runMessage(json("{\"n\":2,\"delay\":0}"));
            process.sendRun(slow);
            process.sendRun(fast);
            JsonObject first = process.answer();
            JsonObject second = process.answer();
            assertThat(first).isEqualTo(json("{\"id\":\"" + fast.get("activation_id").getAsString() + "\",\"result\":{\"n\":2}}"));
            assertThat(second).isEqualTo(json("{\"id\":\"" + slow.get("activation_id").getAsString() + "\",\"result\":{\"n\":1}}"));
            // no markers when activations overlap
            assertThat(process.pendingStdout(Duration.ofMillis(200))).isEmpty();
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    @Test
    void awaitsPromisesAndAnswersRejections() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, code("""
                    exports.main = (params) => {
                      switch (params.mode) {
                        case 'resolve': return new Promise((resolve) => setTimeout(() => resolve({ late: true }), 20));
                        case 'rejectError': return Promise.reject(new Error('nope'));
                        case 'rejectObject': return Promise.reject({ reason: 'x' });
                        case 'rejectWithError': return Promise.reject({ error: 'mine' });
                        case 'resolveNumber': return Promise.resolve(7);
                        case 'callbackThrows': return new Promise(() => setTimeout(() => { throw new Error('late'); }, 10));
                        case 'stray': Promise.reject(new Error('nobody waits')); return { stray: true };
                      }
                    };
                    """, "main"));
            assertThat(okRun(process, runMessage(mode("resolve"))).result()).isEqualTo(json("{\"late\":true}"));
            assertThat(process.run(runMessage(mode("rejectError"))).error()).isEqualTo("An error has occurred: Error: nope");
            assertThat(okRun(process, runMessage(mode("rejectObject"))).result()).isEqualTo(json("{\"error\":{\"reason\":\"x\"}}"));
            assertThat(okRun(process, runMessage(mode("rejectWithError"))).result()).isEqualTo(json("{\"error\":\"mine\"}"));
            assertThat(process.run(runMessage(mode("resolveNumber"))).error()).isEqualTo(NOT_A_DICTIONARY);
            assertThat(process.run(runMessage(mode("callbackThrows"))).error()).isEqualTo("An error has occurred: Error: late");
            assertThat(okRun(process, runMessage(mode("stray"))).result()).isEqualTo(json("{\"stray\":true}"));
            Activation alive = okRun(process, runMessage(mode("resolve")));
            assertThat(alive.stderr()).isEmpty();
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }

    // Not for java: without an fd 3 the JVM's own lib/modules takes that number, and a launcher bug
    // there would destroy the JDK. The regular-file test covers the same check for java.
    @Test
    void exitsWithoutAnAnswerChannel() throws Exception {
        Path input = Files.writeString(work.resolve("input"), "{\"init\":" + kitchenSink() + "}\n");
        assertThat(exitStatus(TestCatalog.get().command(kind(), 256), input)).isEqualTo(2);
    }

    @Test
    void answersASyntaxErrorAsAnInitError() throws Exception {
        try (ActionProcess process = start()) {
            JsonObject answer = process.init(code("function main( {", "main"));
            assertThat(answer.get("error").getAsString()).startsWith("Initialization has failed due to: SyntaxError");
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }
}
