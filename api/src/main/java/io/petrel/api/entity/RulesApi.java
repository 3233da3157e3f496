package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.http.Exchange;
import io.petrel.store.Op;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * {@code /namespaces/{ns}/rules[/{name}]}. A rule's status lives in its trigger's document
 * ({@code rules: {"ns/rule": {action, status}}}); the rule and its trigger change in one transaction.
 */
public final class RulesApi {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final long MAX_BODY = 256 * 1024;

    private final EntityStore entities;
    private final LongSupplier clock;

    public RulesApi(EntityStore entities, LongSupplier clock) {
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
            Listing.reply(ex, Collection.RULES, entities.list(call.namespace(), Collection.RULES, ""), Docs::summary);
            return;
        }
        if (rest.size() != 1) {
            throw ApiException.notFound();
        }
        String name = EntityName.require(rest.get(0));
        switch (ex.method()) {
            case "GET" -> {
                EntityStore.Stored r = entities.get(call.namespace(), Collection.RULES, name).orElseThrow(ApiException::notFound);
                ex.reply(200, withStatus(call.namespace(), name, r.doc()));
            }
            case "PUT" -> put(call, name);
            case "DELETE" -> delete(call, name);
            case "POST" -> setStatus(call, name);
            default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE, POST");
        }
    }

    private static String ruleRef(String ns, String name) {
        return ns + "/" + name;
    }

    /** {@code {path, name}} of a fully qualified reference. */
    private static ObjectNode pathName(EntityName.Qualified q) {
        return NODES.objectNode().put("path", q.path()).put("name", q.name());
    }

    private ObjectNode withStatus(String ns, String name, ObjectNode rule) {
        ObjectNode out = rule.deepCopy();
        String status = "inactive";
        String triggerName = rule.path("trigger").path("name").asText();
        Optional<EntityStore.Stored> t = entities.get(ns, Collection.TRIGGERS, triggerName);
        if (t.isPresent()) {
            status = t.get().doc().path("rules").path(ruleRef(ns, name)).path("status").asText("inactive");
        }
        out.put("status", status);
        return out;
    }

    private void put(Call call, String name) throws IOException {
        String ns = call.namespace();
        ObjectNode body = call.exchange().jsonObject(MAX_BODY);
        Optional<EntityStore.Stored> old = entities.get(ns, Collection.RULES, name);
        if (old.isPresent() && !call.exchange().flag("overwrite")) {
            throw ApiException.conflict(ApiException.ALREADY_EXISTS);
        }
        String status = body.path("status").asText("");
        if (!status.isEmpty() && !status.equals("active") && !status.equals("inactive")) {
            throw ApiException.badRequest("The request content was malformed:\nstatus must be 'active' or 'inactive'");
        }
        JsonNode triggerRef = body.has("trigger") ? body.get("trigger") : old.map(o -> o.doc().path("trigger")).map(this::refText).orElse(null);
        JsonNode actionRef = body.has("action") ? body.get("action") : old.map(o -> o.doc().path("action")).map(this::refText).orElse(null);
        if (triggerRef == null || !triggerRef.isTextual() || actionRef == null || !actionRef.isTextual()) {
            throw ApiException.badRequest("The request content was malformed:\na rule needs 'trigger' and 'action' names");
        }
        EntityName.Qualified trigger = EntityName.parseQualified(triggerRef.asText(), ns);
        EntityName.Qualified action = EntityName.parseQualified(actionRef.asText(), ns);
        if (!trigger.namespace().equals(ns) || trigger.pkg() != null) {
            throw ApiException.badRequest("The trigger of a rule must be in the rule's namespace: " + trigger + ".");
        }
        EntityStore.Stored t = entities.get(ns, Collection.TRIGGERS, trigger.name())
                .orElseThrow(() -> ApiException.badRequest("Trigger " + trigger + " does not exist."));
        requireAction(call, action);

        long now = clock.getAsLong();
        ObjectNode rule = old.isPresent() ? Docs.update(old.get().doc(), body, now) : Docs.create(ns, name, body, now);
        rule.set("trigger", pathName(trigger));
        rule.set("action", pathName(action));
        rule.remove("status");
        String previous = old.map(o -> withStatus(ns, name, o.doc()).path("status").asText()).orElse("active");
        String newStatus = status.isEmpty() ? previous : status;

        List<Op> more = new ArrayList<>();
        String oldTrigger = old.map(o -> o.doc().path("trigger").path("name").asText()).orElse(null);
        ObjectNode triggerDoc = t.doc().deepCopy();
        if (oldTrigger != null && !oldTrigger.equals(trigger.name())) {
            entities.get(ns, Collection.TRIGGERS, oldTrigger).ifPresent(ot -> {
                ObjectNode d = ot.doc().deepCopy();
                if (d.path("rules").isObject()) {
                    ((ObjectNode) d.get("rules")).remove(ruleRef(ns, name));
                }
                more.add(entities.putOp(ns, Collection.TRIGGERS, oldTrigger, d, ot.revision()));
            });
        }
        ObjectNode rules = triggerDoc.path("rules").isObject() ? (ObjectNode) triggerDoc.get("rules") : triggerDoc.putObject("rules");
        rules.set(ruleRef(ns, name), NODES.objectNode().<ObjectNode>set("action", pathName(action)).put("status", newStatus));
        more.add(entities.putOp(ns, Collection.TRIGGERS, trigger.name(), triggerDoc, t.revision()));
        ObjectNode out = rule.deepCopy();
        out.put("status", newStatus);
        more.addAll(call.answerOps(out));
        if (old.isPresent()) {
            entities.update(ns, Collection.RULES, name, rule, old.get().revision(), more);
        } else {
            entities.create(ns, Collection.RULES, name, rule, more);
        }
        call.exchange().reply(200, out);
    }

    private JsonNode refText(JsonNode pathName) {
        return NODES.textNode("/" + pathName.path("path").asText() + "/" + pathName.path("name").asText());
    }

    private void requireAction(Call call, EntityName.Qualified action) {
        String key = action.pkg() == null ? action.name() : action.pkg() + "/" + action.name();
        boolean ok;
        if (action.namespace().equals(call.namespace())) {
            ok = entities.get(action.namespace(), Collection.ACTIONS, key).isPresent();
        } else {
            // Another namespace's action is usable only through a published package.
            ok = action.pkg() != null
                    && entities.get(action.namespace(), Collection.PACKAGES, action.pkg()).map(p -> p.doc().path("publish").asBoolean(false)).orElse(false)
                    && entities.get(action.namespace(), Collection.ACTIONS, key).isPresent();
        }
        if (!ok) {
            throw ApiException.badRequest("Action " + action + " does not exist.");
        }
    }

    private void setStatus(Call call, String name) throws IOException {
        String ns = call.namespace();
        ObjectNode body = call.exchange().jsonObject(MAX_BODY);
        String status = body.path("status").asText("");
        if (!status.equals("active") && !status.equals("inactive")) {
            throw ApiException.badRequest("The request content was malformed:\nstatus must be 'active' or 'inactive'");
        }
        EntityStore.Stored r = entities.get(ns, Collection.RULES, name).orElseThrow(ApiException::notFound);
        String triggerName = r.doc().path("trigger").path("name").asText();
        EntityStore.Stored t = entities.get(ns, Collection.TRIGGERS, triggerName)
                .orElseThrow(() -> ApiException.conflict("Trigger /" + ns + "/" + triggerName + " of this rule no longer exists."));
        ObjectNode triggerDoc = t.doc().deepCopy();
        ObjectNode rules = triggerDoc.path("rules").isObject() ? (ObjectNode) triggerDoc.get("rules") : triggerDoc.putObject("rules");
        rules.set(ruleRef(ns, name), NODES.objectNode().<ObjectNode>set("action", r.doc().get("action")).put("status", status));
        entities.update(ns, Collection.TRIGGERS, triggerName, triggerDoc, t.revision(), call.answerOps(NODES.objectNode()));
        call.exchange().reply(200, NODES.objectNode());
    }

    private void delete(Call call, String name) throws IOException {
        String ns = call.namespace();
        EntityStore.Stored r = entities.get(ns, Collection.RULES, name).orElseThrow(ApiException::notFound);
        ObjectNode shown = withStatus(ns, name, r.doc());
        List<Op> more = new ArrayList<>();
        String triggerName = r.doc().path("trigger").path("name").asText();
        entities.get(ns, Collection.TRIGGERS, triggerName).ifPresent(t -> {
            ObjectNode d = t.doc().deepCopy();
            if (d.path("rules").isObject()) {
                ((ObjectNode) d.get("rules")).remove(ruleRef(ns, name));
            }
            more.add(entities.putOp(ns, Collection.TRIGGERS, triggerName, d, t.revision()));
        });
        more.addAll(call.answerOps(shown));
        entities.delete(ns, Collection.RULES, name, r.revision(), more);
        call.exchange().reply(200, shown);
    }
}
