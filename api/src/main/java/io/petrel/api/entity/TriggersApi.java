package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.http.Exchange;

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

    public TriggersApi(EntityStore entities, LongSupplier clock) {
        this.entities = requireNonNull(entities, "entities");
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

    private void fire(Call call, String name) throws IOException {
        EntityStore.Stored t = entities.get(call.namespace(), Collection.TRIGGERS, name).orElseThrow(ApiException::notFound);
        boolean anyActive = false;
        for (JsonNode rule : t.doc().path("rules")) {
            anyActive |= "active".equals(rule.path("status").asText());
        }
        if (!anyActive) {
            // OpenWhisk records no activation when no rule is active.
            call.exchange().replyEmpty(204);
            return;
        }
        throw new ApiException(503, "No invokers available: this region does not run actions yet.");
    }
}
