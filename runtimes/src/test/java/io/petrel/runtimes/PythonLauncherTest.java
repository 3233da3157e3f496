package io.petrel.runtimes;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class PythonLauncherTest extends LauncherContract {
    private static final String KITCHEN_SINK = """
            import os
            import sys
            from dataclasses import dataclass

            # dataclasses look the module up in sys.modules: this fails unless the launcher registered it.
            @dataclass
            class Logged:
                logged: bool

            def main(params):
                mode = params.get('mode')
                if mode == 'throw':
                    raise Exception('boom')
                if mode == 'number':
                    return 42
                if mode == 'none':
                    return None
                if mode == 'exit':
                    sys.exit(3)
                if mode == 'env':
                    return {
                        'init': os.environ.get('PETREL_INIT'),
                        'activation': os.environ.get('__OW_ACTIVATION_ID'),
                        'apiKey': os.environ.get('__OW_API_KEY'),
                        'namespace': os.environ.get('__OW_NAMESPACE'),
                        'actionName': os.environ.get('__OW_ACTION_NAME'),
                        'deadline': os.environ.get('__OW_DEADLINE'),
                    }
                if mode == 'log':
                    print('out: ' + params['text'])
                    print('err: ' + params['text'], file=sys.stderr)
                    return {'logged': Logged(True).logged}
                if mode == 'nan':
                    return {'x': float('nan')}
                if mode == 'unserializable':
                    return {'x': object()}
                return params

            if __name__ == '__main__':
                print('the action ran as __main__')
            """;

    private static final String OTHER = """
            def other(params):
                return {'main': 'other', 'value': params}

            def main(params):
                raise Exception('not this one')
            """;

    @Override
    String family() {
        return "python";
    }

    @Override
    JsonObject kitchenSink() {
        return NodeLauncherTest.code(KITCHEN_SINK, "main");
    }

    @Override
    JsonObject otherMain() {
        return NodeLauncherTest.code(OTHER, "other");
    }

    @Override
    JsonObject archive(Path dir) throws IOException {
        Files.writeString(dir.resolve("__main__.py"), """
                import helper
                import vpkg

                def main(params):
                    return {'from': 'archive', 'helper': helper.help() if vpkg.OK else 'no virtualenv', 'value': params}

                if __name__ == '__main__':
                    raise SystemExit('must not run')
                """);
        Files.writeString(dir.resolve("helper.py"), "def help():\n    return 'helped'\n");
        // A virtualenv made for some other 3.x: the launcher takes the site-packages there is.
        Path sitePackages = Files.createDirectories(dir.resolve("virtualenv/lib/python3.99/site-packages/vpkg"));
        Files.writeString(sitePackages.resolve("__init__.py"), "OK = True\n");
        JsonObject init = new JsonObject();
        init.addProperty("name", "/guest/pkg/act");
        init.addProperty("main", "main");
        init.addProperty("path", dir.toString());
        return init;
    }

    @Override
    String boomError() {
        return "An error has occurred: Exception: boom";
    }

    @Test
    void survivesSysExitAndAnswersUnserializableResults() throws Exception {
        try (ActionProcess process = start()) {
            initOk(process, kitchenSink());
            var exited = process.run(runMessage(mode("exit")));
            assertThat(exited.error()).isEqualTo("An error has occurred: SystemExit: 3");
            assertThat(exited.stdout()).isEmpty(); // and the __main__ block did not run
            assertThat(process.run(runMessage(mode("nan"))).error()).startsWith("An error has occurred: ValueError");
            assertThat(process.run(runMessage(mode("unserializable"))).error()).startsWith("An error has occurred: TypeError");
            JsonObject value = json("{\"still\":\"alive\"}");
            assertThat(okRun(process, runMessage(value)).result()).isEqualTo(value);
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
            JsonObject answer = process.init(NodeLauncherTest.code("def main(params)\n  return params\n", "main"));
            assertThat(answer.get("error").getAsString()).startsWith("Initialization has failed due to: SyntaxError");
            assertThat(process.closeStdinAndWait()).isZero();
        }
    }
}
