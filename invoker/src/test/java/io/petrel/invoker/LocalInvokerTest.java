package io.petrel.invoker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.invoke.RunResult;
import io.petrel.container.InitMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** How the local invoker drives a container and maps its outcomes, with in-memory containers. */
class LocalInvokerTest {
    private final ScriptedStarter starter = new ScriptedStarter();
    private final ContainerPool pool = new ContainerPool("z1",
            new PoolConfig(512, Map.of(), 256, Duration.ofMinutes(5), 2), starter);
    private final LocalInvoker invoker = new LocalInvoker("z1", pool, List.of("nodejs:20", "python:3.11"));

    @AfterEach
    void close() {
        invoker.close();
    }

    private RunResult run(RunRequest request) throws Exception {
        Optional<CompletableFuture<RunResult>> started = invoker.tryRun(request);
        assertThat(started).as("placed").isPresent();
        return started.get().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aColdStartReportsItsInitTimeAndAWarmOneDoesNot() throws Exception {
        Requests r = Requests.nodejs("function main(a) { return a; }");
        RunResult cold = run(r.of("echo"));
        assertThat(cold.statusCode()).isZero();
        assertThat(cold.result().get("name").asText()).isEqualTo("petrel");
        assertThat(cold.initMillis()).isPresent();
        assertThat(cold.zone()).isEqualTo("z1");
        assertThat(cold.endMillis()).isGreaterThanOrEqualTo(cold.startMillis());

        RunResult warm = run(r.of("echo"));
        assertThat(warm.initMillis()).isEmpty();
        assertThat(starter.started).hasSize(1);
        assertThat(starter.last().inits).hasSize(1);
        assertThat(starter.last().runs).hasSize(2);
        assertThat(invoker.stats().warmStarts()).isEqualTo(1);
        assertThat(invoker.kinds()).containsExactly("nodejs:20", "python:3.11");
    }

    @Test
    void initGetsTheInitParametersAndTheActivationsOwVariables() throws Exception {
        RunRequest request = Requests.nodejs("function main(a) { return a; }").initEnv(Map.of("GREETING", "hi"))
                .apiKey("uuid:key").timeout(5_000).of("env");
        RunResult result = run(request);
        InitMessage init = starter.last().inits.getFirst();
        assertThat(init.name()).isEqualTo("/guest/env");
        assertThat(init.main()).isEqualTo("main");
        assertThat(init.code()).contains("function main(a) { return a; }");
        assertThat(init.binary()).isFalse();
        assertThat(init.env()).containsEntry("GREETING", "hi")
                .containsEntry("__OW_NAMESPACE", "guest")
                .containsEntry("__OW_ACTION_NAME", "/guest/env")
                .containsEntry("__OW_ACTION_VERSION", "0.0.1")
                .containsEntry("__OW_ACTIVATION_ID", request.activationId())
                .containsEntry("__OW_TRANSACTION_ID", request.transactionId())
                .containsEntry("__OW_API_KEY", "uuid:key");
        long deadline = Long.parseLong(init.env().get("__OW_DEADLINE"));
        assertThat(deadline).isEqualTo(result.startMillis() + 5_000);
        assertThat(starter.last().runs.getFirst().deadlineMillis()).isEqualTo(deadline);
        assertThat(starter.last().runs.getFirst().apiKey()).contains("uuid:key");
        assertThat(starter.last().initTimeouts.getFirst()).isEqualTo(Duration.ofMillis(5_000));
    }

    @Test
    void withoutAnApiKeyOrCodeNeitherIsSent() throws Exception {
        run(Requests.nodejs("  ").of("nocode"));
        InitMessage init = starter.last().inits.getFirst();
        assertThat(init.code()).isEmpty();
        assertThat(init.env()).doesNotContainKey("__OW_API_KEY");
        assertThat(starter.last().runs.getFirst().apiKey()).isEmpty();
    }

    @Test
    void aValueThatIsNotAnObjectIsPassedAsItIs() throws Exception {
        JsonNode array = JsonNodeFactory.instance.arrayNode().add(1).add("two");
        RunResult result = run(Requests.nodejs("x").of("arr", array));
        assertThat(starter.last().runs.getFirst().value()).isEqualTo(array);
        assertThat(result.result()).isEqualTo(array);
    }

    @Test
    void theInitTimeCountsInTheActionsTimeout() throws Exception {
        starter.configure = c -> c.onInit = init -> {
            sleep(300);
            return ScriptedContainer.ok(JsonNodeFactory.instance.objectNode());
        };
        RunResult result = run(Requests.nodejs("x").timeout(1_000).of("slowinit"));
        assertThat(result.initMillis().orElseThrow()).isBetween(290L, 1_000L);
        Duration runTimeout = starter.last().runTimeouts.getFirst();
        assertThat(runTimeout).isLessThanOrEqualTo(Duration.ofMillis(720)).isPositive();
    }

    @Test
    void aFailedInitIsTheResultAndItsContainerIsClosed() throws Exception {
        starter.configure = c -> c.onInit = init -> ScriptedContainer.failure(2,
                "Initialization has failed due to: SyntaxError: Unexpected token", false, true);
        RunResult result = run(Requests.nodejs("function main( {").of("broken"));
        assertThat(result.statusCode()).isEqualTo(2);
        assertThat(result.result().get("error").asText()).startsWith("Initialization has failed");
        assertThat(result.initMillis()).isPresent();
        ScriptedContainer first = starter.last();
        assertThat(first.runs).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(first::closed);
        assertThat(invoker.stats().memoryInUseMb()).isZero();

        starter.configure = c -> { };
        RunResult fixed = run(Requests.nodejs("function main( {").of("broken"));
        assertThat(fixed.statusCode()).isZero();
        assertThat(starter.started).hasSize(2);
    }

    @Test
    void aContainerThatCannotStartIsAnInternalErrorNotAFailedFuture() throws Exception {
        starter.failWith = new IOException("cannot run /usr/bin/node: not found");
        RunResult result = run(Requests.nodejs("x").of("nostart"));
        assertThat(result.statusCode()).isEqualTo(3);
        assertThat(result.result().toString())
                .isEqualTo("{\"error\":\"Failed to start a container for the action: cannot run /usr/bin/node: not found\"}");
        assertThat(result.initMillis()).isEmpty();
        assertThat(invoker.stats().memoryInUseMb()).isZero();
    }

    @Test
    void anExceptionFromTheContainerIsAnInternalError() throws Exception {
        starter.configure = c -> c.onRun = run -> {
            throw new IllegalStateException("launcher protocol broken");
        };
        RunResult result = run(Requests.nodejs("x").of("throws"));
        assertThat(result.statusCode()).isEqualTo(3);
        assertThat(result.result().get("error").asText()).contains("launcher protocol broken");
        await().atMost(Duration.ofSeconds(5)).until(() -> starter.last().closed());
    }

    @Test
    void aTimeoutIsReportedAndTheNextActivationGetsAFreshContainer() throws Exception {
        starter.configure = c -> c.onRun = run -> ScriptedContainer.failure(2,
                "The action exceeded its time limits of 1000 milliseconds.", true, false);
        RunResult timedOut = run(Requests.nodejs("x").timeout(1_000).of("slow"));
        assertThat(timedOut.timedOut()).isTrue();
        assertThat(timedOut.statusCode()).isEqualTo(2);
        ScriptedContainer killed = starter.last();
        await().atMost(Duration.ofSeconds(5)).until(killed::closed);

        starter.configure = c -> { };
        RunResult next = run(Requests.nodejs("x").timeout(1_000).of("slow"));
        assertThat(next.statusCode()).isZero();
        assertThat(next.initMillis()).isPresent();
        assertThat(starter.last()).isNotSameAs(killed);
    }

    @Test
    void aFullPoolAnswersEmptyAtOnce() throws Exception {
        Requests r = Requests.nodejs("x").memory(512);
        starter.configure = c -> c.runGate = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<RunResult> holding = invoker.tryRun(r.of("big")).orElseThrow();
        await().atMost(Duration.ofSeconds(5)).until(() -> invoker.stats().busy() == 1);
        long begin = System.nanoTime();
        assertThat(invoker.tryRun(r.of("other"))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofMillis(500));
        starter.last().runGate.countDown();
        assertThat(holding.get(5, TimeUnit.SECONDS).statusCode()).isZero();
    }

    @Test
    void anInitFailureEndsEveryActivationThatWaitedForTheContainer() throws Exception {
        starter.configure = c -> c.onInit = init -> {
            sleep(200);
            return ScriptedContainer.failure(2, "Initialization has failed due to: boom", false, true);
        };
        Requests r = Requests.nodejs("x").concurrency(2);
        CompletableFuture<RunResult> a = invoker.tryRun(r.of("c")).orElseThrow();
        CompletableFuture<RunResult> b = invoker.tryRun(r.of("c")).orElseThrow();
        for (RunResult result : List.of(a.get(5, TimeUnit.SECONDS), b.get(5, TimeUnit.SECONDS))) {
            assertThat(result.statusCode()).isEqualTo(2);
            assertThat(result.result().get("error").asText()).isEqualTo("Initialization has failed due to: boom");
        }
        assertThat(starter.started).hasSize(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> invoker.stats().containers() == 0);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
