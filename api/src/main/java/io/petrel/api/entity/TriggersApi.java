package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.petrel.api.activation.ActivationRecord;
import io.petrel.api.http.Exchange;
import io.petrel.api.invoke.ActionInvoke;
import io.petrel.api.invoke.Invocations;
import io.petrel.api.invoke.Target;
import io.petrel.api.invoke.Throttle;
import java.util.ArrayList;
import java.util.Map;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * {@code /namespaces/{ns}/triggers[/{name}]}. A trigger's document also holds the status of the rules
 * that name it (as in OpenWhisk), so enabling a rule and firing its trigger read one document.
 */
public final class TriggersApi {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final long MAX_BODY = 2L * 1024 * 1024;

    private final EntityStore entities;
    private final LongSupplier clock;
    private final Invocations invocations;
    private final ActionResolver resolver;
    private final Throttle throttle;

    public TriggersApi(EntityStore entities, Invocations invocations, ActionResolver resolver, Throttle throttle, LongSupplier clock) {
        this.entities = requireNonNull(entities, "entities");
        this.invocations = requireNonNull(invocations, "invocations");
        this.resolver = requireNonNull(resolver, "resolver");
        this.throttle = requireNonNull(throttle, "throttle");
        this.clock = requireNonNull(clock, "clock");
    }

    public void handle(Call call, List<String> rest) throws IOException {
        Exchange ex = call.exchange();
        call.requireOwn();
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
            if (!ex.method().equals("GET")) {
                throw new ApiException(405, "HTTP method not allowed, supported methods: GET");
            }
            Listing.reply(ex, Collection.TRIGGERS, entities.list(call.namespace(), Collection.TRIGGERS, ""), Docs::summary);
            return;
        }
        if (rest.size() != 1) {
            throw ApiException.notFound();
        }
        String name = EntityName.require(rest.get(0));
        switch (ex.method()) {
            case "GET" -> ex.reply(200, entities.get(call.namespace(), Collection.TRIGGERS, name).orElseThrow(ApiException::notFound).doc());
            case "PUT" -> put(call, name);
            case "DELETE" -> {
                EntityStore.Stored old = entities.get(call.namespace(), Collection.TRIGGERS, name).orElseThrow(ApiException::notFound);
                entities.delete(call.namespace(), Collection.TRIGGERS, name, old.revision(), call.answerOps(old.doc()));
                ex.reply(200, old.doc());
            }
            case "POST" -> fire(call, name);
            default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE, POST");
        }
    }

    private void put(Call call, String name) throws IOException {
        ObjectNode body = call.exchange().jsonObject(MAX_BODY);
        JsonNode limits = body.get("limits");
        if (limits != null && !limits.isNull() && !limits.isObject()) {
            throw ApiException.badRequest("The request content was malformed:\nlimits must be an object");
        }
        Optional<EntityStore.Stored> old = entities.get(call.namespace(), Collection.TRIGGERS, name);
        long now = clock.getAsLong();
        if (old.isPresent()) {
            if (!call.exchange().flag("overwrite")) {
                throw ApiException.conflict(ApiException.ALREADY_EXISTS);
            }
            ObjectNode doc = Docs.update(old.get().doc(), body, now);
            if (body.has("parameters")) {
                doc.set("parameters", Docs.parameters(body));
            }
            entities.update(call.namespace(), Collection.TRIGGERS, name, doc, old.get().revision(), call.answerOps(doc));
            call.exchange().reply(200, doc);
            return;
        }
        ObjectNode doc = Docs.create(call.namespace(), name, body, now);
        doc.set("parameters", Docs.parameters(body));
        doc.set("limits", NODES.objectNode());
        entities.create(call.namespace(), Collection.TRIGGERS, name, doc, call.answerOps(doc));
        call.exchange().reply(200, doc);
    }

    /**
     * Fires a trigger: with no active rule, 204 and no record (OpenWhisk's answer); otherwise the
     * trigger's activation (its result is the payload, its logs one line per rule) and, for each
     * active rule, its action invoked non-blocking for the caller, caused by the trigger's activation.
     */
    private void fire(Call call, String name) throws IOException {
        Exchange ex = call.exchange();
        EntityStore.Stored t = entities.get(call.namespace(), Collection.TRIGGERS, name).orElseThrow(ApiException::notFound);
        ObjectNode body = ex.jsonObject(Invocations.MAX_PAYLOAD_BYTES);
        List<Map.Entry<String, JsonNode>> active = new ArrayList<>();
        for (Map.Entry<String, JsonNode> rule : t.doc().path("rules").properties()) {
            if ("active".equals(rule.getValue().path("status").asText())) {
                active.add(rule);
            }
        }
        if (active.isEmpty()) {
            // OpenWhisk records no activation when no rule is active.
            ex.replyEmpty(204);
            return;
        }
        throttle.admit(call.who().namespace(), Throttle.Kind.FIRE).close();
        ObjectNode payload = NODES.objectNode();
        for (JsonNode p : t.doc().path("parameters")) {
            payload.set(p.path("key").asText(), p.path("value"));
        }
        payload.setAll(body);
        String triggerId = invocations.newActivationId();
        long start = clock.getAsLong();
        List<String> logs = new ArrayList<>();
        for (Map.Entry<String, JsonNode> rule : active) {
            JsonNode action = rule.getValue().path("action");
            String actionPath = action.path("path").asText() + "/" + action.path("name").asText();
            ObjectNode line = NODES.objectNode();
            try {
                Target target = resolver.resolve(call.who(), call.namespace(), "/" + actionPath);
                Throttle.Permit permit = throttle.admit(call.who().namespace(), Throttle.Kind.INVOKE);
                Invocations.Started s;
                try {
                    s = invocations.start(new Invocations.Request(target, Invocations.mergeParameters(target, payload.deepCopy()),
                            call.who(), ActionInvoke.apiKey(ex), ex.transactionId(), Optional.of(triggerId), false, Optional.empty()));
                } catch (RuntimeException e) {
                    permit.close();
                    throw e;
                }
                s.done().whenComplete((r, e) -> permit.close());
                invocations.accept(s);
                line.put("statusCode", 0).put("success", true).put("activationId", s.activationId());
            } catch (ApiException e) {
                line.put("statusCode", e.status()).put("success", false).put("error", e.getMessage());
            }
            line.put("rule", rule.getKey()).put("action", actionPath);
            logs.add(line.toString());
        }
        ArrayNode annotations = NODES.arrayNode();
        annotations.addObject().put("key", "path").put("value", call.namespace() + "/" + name);
        invocations.record(new ActivationRecord(call.who().namespace(), name, name, call.who().namespace(), triggerId, start,
                Math.max(start, clock.getAsLong()), t.doc().path("version").asText("0.0.1"), 0, payload, annotations, logs, Optional.empty()));
        ex.setHeader(ActionInvoke.ACTIVATION_ID_HEADER, triggerId);
        ex.reply(202, NODES.objectNode().put("activationId", triggerId));
    }
}
