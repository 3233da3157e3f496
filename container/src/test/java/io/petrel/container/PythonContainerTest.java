package io.petrel.container;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

import static io.petrel.container.TestSupport.IDENTITY;
import static io.petrel.container.TestSupport.JSON;
import static io.petrel.container.TestSupport.LOG_LIMIT;
import static io.petrel.container.TestSupport.LOG_LINE;
import static io.petrel.container.TestSupport.TIMEOUT;
import static io.petrel.container.TestSupport.assertHealthy;
import static io.petrel.container.TestSupport.error;
import static io.petrel.container.TestSupport.files;
import static io.petrel.container.TestSupport.init;
import static io.petrel.container.TestSupport.object;
import static io.petrel.container.TestSupport.run;
import static io.petrel.container.TestSupport.startNode;
import static io.petrel.container.TestSupport.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A few cases with Python, whose launcher is a different program with the same protocol. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PythonContainerTest {
    private ContainerFactory factory;
    private ActionContainer healthy;
    private String kind;

    @BeforeAll
    void start() throws IOException {
        assumeTrue(TestSupport.catalog().resolve("python:default").isPresent(), "no python3 on this machine");
        kind = TestSupport.catalog().resolve("python:default").orElseThrow().kind();
        factory = TestSupport.factory(TestSupport.strongest(), "ctest-python");
        healthy = startNode(factory, IDENTITY);
    }

    @AfterEach
    void healthyStillRuns() {
        assertHealthy(healthy);
    }

    @AfterAll
    void close() {
        if (factory != null) {
            assertHealthy(healthy);
            factory.close();
        }
    }

    @Test
    void identityUnicodeAndLogs() throws IOException {
        try (ActionContainer container = factory.start(kind, 256, 1, Map.of())) {
            Outcome init = container.init(init("""
                    import sys
                    def main(args):
                        print('hello', args.get('text'))
                        print('warning', file=sys.stderr)
                        return args
                    """), TIMEOUT);
            assertThat(init.statusCode()).as("%s %s", init.result(), init.logs()).isZero();
            String text = "Grüße, 世界! ✓ 🐦";
            Outcome outcome = container.run(run(JSON.createObjectNode().put("text", text)), TIMEOUT, LOG_LIMIT);
            assertThat(outcome.statusCode()).isZero();
            assertThat(outcome.result()).isEqualTo(JSON.createObjectNode().put("text", text));
            assertThat(outcome.logs()).hasSize(2).allMatch(line -> line.matches(LOG_LINE));
            assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stdout: hello " + text));
            assertThat(outcome.logs()).anyMatch(line -> line.endsWith(" stderr: warning"));
        }
    }

    @Test
    void zipWithMainModule() throws IOException {
        try (ActionContainer container = factory.start(kind, 256, 1, Map.of())) {
            byte[] archive = zip(files(
                    "__main__.py", "from helper import double\ndef main(args):\n    return {'doubled': double(args['n'])}\n",
                    "helper.py", "def double(n):\n    return 2 * n\n"));
            Outcome init = container.init(TestSupport.binaryInit(archive, "main"), TIMEOUT);
            assertThat(init.statusCode()).as("%s %s", init.result(), init.logs()).isZero();
            Outcome outcome = container.run(run(object("{\"n\":21}")), TIMEOUT, LOG_LIMIT);
            assertThat(outcome.result()).isEqualTo(object("{\"doubled\":42}"));
        }
    }

    @Test
    void exitAndTimeout() throws IOException {
        try (ActionContainer container = factory.start(kind, 256, 1, Map.of())) {
            container.init(init("import os\ndef main(args):\n    os._exit(3)\n"), TIMEOUT);
            Outcome outcome = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
            assertThat(outcome.statusCode()).isEqualTo(2);
            assertThat(error(outcome)).isEqualTo("The action did not produce a valid response and exited unexpectedly.");
            assertThat(container.usable()).isFalse();
        }
        try (ActionContainer container = factory.start(kind, 256, 1, Map.of())) {
            container.init(init("def main(args):\n    while True:\n        pass\n"), TIMEOUT);
            Outcome outcome = container.run(run(JSON.createObjectNode()), Duration.ofMillis(800), LOG_LIMIT);
            assertThat(error(outcome)).isEqualTo("The action exceeded its time limits of 800 milliseconds.");
            assertThat(outcome.timedOut()).isTrue();
            assertThat(container.usable()).isFalse();
        }
    }

    @Test
    void raisedErrorIsADeveloperError() throws IOException {
        try (ActionContainer container = factory.start(kind, 256, 1, Map.of())) {
            container.init(init("def main(args):\n    raise ValueError('nope')\n"), TIMEOUT);
            Outcome outcome = container.run(run(JSON.createObjectNode()), TIMEOUT, LOG_LIMIT);
            assertThat(outcome.statusCode()).isEqualTo(2);
            assertThat(error(outcome)).startsWith("An error has occurred: ").contains("nope");
            assertThat(outcome.containerUsable()).isTrue();
        }
    }
}
