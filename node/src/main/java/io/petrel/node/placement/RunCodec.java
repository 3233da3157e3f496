package io.petrel.node.placement;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.invoke.ActionCode;
import io.petrel.api.invoke.RunLimits;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.invoke.RunResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/** Activations as JSON between zones: a run placed on another zone's invoker, and its result. */
final class RunCodec {
    private final ObjectMapper json;

    RunCodec(ObjectMapper json) {
        this.json = requireNonNull(json, "json");
    }

    ObjectNode request(RunRequest r) {
        ObjectNode n = json.createObjectNode();
        n.put("activationId", r.activationId()).put("transactionId", r.transactionId()).put("namespace", r.namespace())
                .put("actionName", r.actionName()).put("version", r.version()).put("revision", r.revision())
                .put("acceptedAt", r.acceptedAtMillis());
        n.putObject("code").put("kind", r.code().kind()).put("code", r.code().code()).put("binary", r.code().binary())
                .put("main", r.code().main());
        ObjectNode env = n.putObject("initEnv");
        r.initEnv().forEach(env::put);
        n.set("value", r.value());
        n.putObject("limits").put("timeout", r.limits().timeoutMillis()).put("memory", r.limits().memoryMb())
                .put("logs", r.limits().logBytes()).put("concurrency", r.limits().concurrency());
        r.apiKey().ifPresent(k -> n.put("apiKey", k));
        return n;
    }

    RunRequest request(JsonNode n) {
        JsonNode c = n.path("code");
        JsonNode l = n.path("limits");
        Map<String, String> env = new LinkedHashMap<>();
        n.path("initEnv").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        return new RunRequest(text(n, "activationId"), text(n, "transactionId"), text(n, "namespace"), text(n, "actionName"),
                text(n, "version"), n.path("revision").asLong(), new ActionCode(text(c, "kind"), c.path("code").asText(""),
                c.path("binary").asBoolean(false), c.path("main").asText("main")), env, n.path("value"),
                new RunLimits(l.path("timeout").asInt(), l.path("memory").asInt(), l.path("logs").asLong(), l.path("concurrency").asInt(1)),
                n.hasNonNull("apiKey") ? Optional.of(n.get("apiKey").asText()) : Optional.empty(), n.path("acceptedAt").asLong());
    }

    ObjectNode result(RunResult r) {
        ObjectNode n = json.createObjectNode();
        n.put("statusCode", r.statusCode());
        n.set("result", r.result());
        r.logs().forEach(n.putArray("logs")::add);
        n.put("start", r.startMillis()).put("end", r.endMillis()).put("timedOut", r.timedOut()).put("zone", r.zone());
        r.initMillis().ifPresent(ms -> n.put("initMillis", ms));
        return n;
    }

    RunResult result(JsonNode n) {
        List<String> logs = new ArrayList<>();
        n.path("logs").forEach(l -> logs.add(l.asText()));
        return new RunResult(n.path("statusCode").asInt(3), n.path("result"), logs, n.path("start").asLong(), n.path("end").asLong(),
                n.has("initMillis") ? OptionalLong.of(n.get("initMillis").asLong()) : OptionalLong.empty(),
                n.path("timedOut").asBoolean(false), n.path("zone").asText());
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("placed run: '" + field + "' is missing");
        }
        return v.asText();
    }
}
