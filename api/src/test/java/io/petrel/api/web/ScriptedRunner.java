package io.petrel.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.invoke.ActionRunner;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.invoke.RunResult;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The invoker of the web action tests: the api module cannot run real containers, so an action's
 * "code" names what this runner does with the parameters it is given. Everything around it (the
 * parameters, the record, the HTTP answer) is the real thing.
 *
 * <ul>
 *   <li>{@code echo}: the result is the parameters</li>
 *   <li>{@code echo-http}: {@code {"body": <the parameters>}}, so {@code .http} serves them as JSON</li>
 *   <li>{@code respond}: the result is the parameter {@code response} ({@code {statusCode, headers, body}})</li>
 *   <li>{@code count}: the parameters with {@code count} one higher (for sequences)</li>
 *   <li>{@code fail}: an application error whose {@code error} is the parameter {@code error}</li>
 *   <li>{@code crash}: an action developer error</li>
 *   <li>{@code hang}: never ends until the runner is closed</li>
 * </ul>
 */
final class ScriptedRunner implements ActionRunner, AutoCloseable {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private final Map<String, RunRequest> seen = new ConcurrentHashMap<>();
    private final List<CompletableFuture<RunResult>> hanging = new CopyOnWriteArrayList<>();

    /** The scripted runner always has room: waiting is never needed. */
    @Override
    public Optional<CompletableFuture<RunResult>> tryRunWaiting(RunRequest request) {
        return tryRun(request);
    }

    @Override
    public Optional<CompletableFuture<RunResult>> tryRun(RunRequest request) {
        seen.put(request.activationId(), request);
        JsonNode params = request.value();
        long now = System.currentTimeMillis();
        String script = request.code().code();
        if (script.equals("hang")) {
            CompletableFuture<RunResult> never = new CompletableFuture<>();
            hanging.add(never);
            return Optional.of(never);
        }
        RunResult result = switch (script) {
            case "echo" -> ok(params, now);
            case "echo-http" -> ok(NODES.objectNode().set("body", params), now);
            case "respond" -> ok(params.path("response"), now);
            case "count" -> ok(((ObjectNode) params.deepCopy()).put("count", params.path("count").asInt(0) + 1), now);
            case "fail" -> new RunResult(1, NODES.objectNode().set("error", params.path("error")), List.of(), now, now,
                    OptionalLong.empty(), false, "test");
            case "crash" -> new RunResult(2, NODES.objectNode().put("error", "The action did not produce a valid response and exited unexpectedly."),
                    List.of(), now, now, OptionalLong.empty(), false, "test");
            default -> new RunResult(3, NODES.objectNode().put("error", "unknown test script " + script), List.of(), now, now,
                    OptionalLong.empty(), false, "test");
        };
        return Optional.of(CompletableFuture.completedFuture(result));
    }

    private static RunResult ok(JsonNode result, long now) {
        return new RunResult(0, result, List.of(), now, now, OptionalLong.empty(), false, "test");
    }

    /** What the runner was asked to run for an activation. */
    RunRequest request(String activationId) {
        return seen.get(activationId);
    }

    @Override
    public void close() {
        long now = System.currentTimeMillis();
        for (CompletableFuture<RunResult> f : hanging) {
            f.complete(new RunResult(2, NODES.objectNode().put("error", "The action exceeded its time limits."), List.of(), now, now,
                    OptionalLong.empty(), true, "test"));
        }
    }
}
