package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.http.Exchange;
import io.petrel.api.namespace.PolicyRegistry;
import io.petrel.store.Op;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/** {@code /namespaces/{ns}/packages[/{name}]}: packages, bindings, publishing and forced deletion. */
public final class PackagesApi {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final long MAX_BODY = 2L * 1024 * 1024;

    private final EntityStore entities;
    private final PolicyRegistry policies;
    private final LongSupplier clock;

    public PackagesApi(EntityStore entities, PolicyRegistry policies, LongSupplier clock) {
        this.entities = requireNonNull(entities, "entities");
        this.policies = requireNonNull(policies, "policies");
        this.clock = requireNonNull(clock, "clock");
    }

    /** A package the caller may read: its own, or another namespace's published one. */
    public record Readable(String namespace, String name, ObjectNode doc, long revision) {
        boolean isBinding() {
            return doc.path("binding").has("name");
        }
    }

    /** The package {@code ns/name} if the caller may read it; 404 otherwise (another tenant's private package included). */
    public Readable readable(Call call, String ns, String name) {
        EntityName.require(name);
        EntityStore.Stored s = entities.get(ns, Collection.PACKAGES, name).orElseThrow(ApiException::notFound);
        if (!ns.equals(call.who().namespace())
                && (!s.doc().path("publish").asBoolean(false) || !policies.get(ns).mayReadPackages(call.who().namespace()))) {
            throw ApiException.forbidden();
        }
        return new Readable(ns, name, s.doc(), s.revision());
    }

    /** Follows a binding to the package it binds (bindings do not chain). */
    public Readable resolveBinding(Call call, Readable p) {
        if (!p.isBinding()) {
            return p;
        }
        JsonNode b = p.doc().get("binding");
        return readable(call, b.path("namespace").asText(), b.path("name").asText());
    }

    public void handle(Call call, List<String> rest) throws IOException {
        Exchange ex = call.exchange();
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
            if (!ex.method().equals("GET")) {
                throw new ApiException(405, "HTTP method not allowed, supported methods: GET");
            }
            list(call);
            return;
        }
        if (rest.size() != 1) {
            throw ApiException.notFound();
        }
        String name = EntityName.require(rest.get(0));
        switch (ex.method()) {
            case "GET" -> get(call, name);
            case "PUT" -> put(call, name);
            case "DELETE" -> delete(call, name);
            default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE");
        }
    }

    private void list(Call call) throws IOException {
        boolean publicOnly = !call.own() || call.exchange().flag("public");
        if (!call.own() && !call.exchange().flag("public")) {
            throw ApiException.forbidden();
        }
        List<EntityStore.Stored> all = entities.list(call.namespace(), Collection.PACKAGES, "");
        if (publicOnly) {
            all = all.stream().filter(s -> s.doc().path("publish").asBoolean(false)).toList();
        }
        Listing.reply(call.exchange(), Collection.PACKAGES, all, d -> {
            ObjectNode s = Docs.summary(d);
            JsonNode b = d.path("binding");
            s.set("binding", b.has("name") ? b : NODES.booleanNode(false));
            return s;
        });
    }

    private void get(Call call, String name) throws IOException {
        Readable p = readable(call, call.namespace(), name);
        ObjectNode doc = p.doc().deepCopy();
        Readable source = resolveBinding(call, p);
        ArrayNode actions = NODES.arrayNode();
        for (EntityStore.Stored a : entities.list(source.namespace(), Collection.ACTIONS, source.name() + "/")) {
            ObjectNode item = NODES.objectNode();
            item.put("name", a.doc().path("name").asText());
            item.set("version", a.doc().get("version"));
            item.set("annotations", a.doc().get("annotations"));
            item.set("parameters", a.doc().get("parameters"));
            actions.add(item);
        }
        doc.set("actions", actions);
        doc.set("feeds", NODES.arrayNode());
        call.exchange().reply(200, doc);
    }

    private void put(Call call, String name) throws IOException {
        call.requireOwn();
        ObjectNode body = call.exchange().jsonObject(MAX_BODY);
        boolean overwrite = call.exchange().flag("overwrite");
        Optional<EntityStore.Stored> old = entities.get(call.namespace(), Collection.PACKAGES, name);
        long now = clock.getAsLong();
        JsonNode binding = bindingOf(call, body);
        if (old.isPresent()) {
            if (!overwrite) {
                throw ApiException.conflict(ApiException.ALREADY_EXISTS);
            }
            ObjectNode doc = Docs.update(old.get().doc(), body, now);
            if (body.has("parameters")) {
                doc.set("parameters", Docs.parameters(body));
            }
            if (binding != null) {
                boolean wasBinding = old.get().doc().path("binding").has("name");
                if (!wasBinding && binding.has("name")) {
                    throw ApiException.conflict("Resource is not a binding and cannot be changed into one.");
                }
                doc.set("binding", binding);
            }
            entities.update(call.namespace(), Collection.PACKAGES, name, doc, old.get().revision(), call.answerOps(doc));
            call.exchange().reply(200, doc);
            return;
        }
        ObjectNode doc = Docs.create(call.namespace(), name, body, now);
        doc.set("parameters", Docs.parameters(body));
        doc.set("binding", binding == null ? NODES.objectNode() : binding);
        entities.create(call.namespace(), Collection.PACKAGES, name, doc, call.answerOps(doc));
        call.exchange().reply(200, doc);
    }

    /** The binding a body asks for, checked: the bound package must exist, be readable and not be a binding. */
    private JsonNode bindingOf(Call call, ObjectNode body) {
        JsonNode b = body.get("binding");
        if (b == null || b.isNull() || (b.isObject() && b.isEmpty())) {
            return b == null || b.isNull() ? null : NODES.objectNode();
        }
        if (!b.isObject() || !b.path("name").isTextual()) {
            throw ApiException.badRequest("The request content was malformed:\nbinding must be {\"namespace\": ..., \"name\": ...}");
        }
        String ns = b.path("namespace").asText(call.namespace());
        if (ns.isEmpty() || ns.equals("_")) {
            ns = call.namespace();
        }
        Readable target;
        try {
            target = readable(call, ns, b.path("name").asText());
        } catch (ApiException e) {
            throw ApiException.badRequest("The package to bind, /" + ns + "/" + b.path("name").asText() + ", does not exist or is not accessible.");
        }
        if (target.isBinding()) {
            throw ApiException.badRequest("Cannot bind to another package binding.");
        }
        return NODES.objectNode().put("namespace", ns).put("name", target.name());
    }

    private void delete(Call call, String name) throws IOException {
        call.requireOwn();
        EntityStore.Stored p = entities.get(call.namespace(), Collection.PACKAGES, name).orElseThrow(ApiException::notFound);
        List<EntityStore.Stored> inside = entities.list(call.namespace(), Collection.ACTIONS, name + "/");
        if (!inside.isEmpty() && !call.exchange().flag("force")) {
            throw ApiException.conflict("Package not empty (contains " + inside.size() + " " + (inside.size() == 1 ? "entity" : "entities")
                    + "). Set force param or delete package contents.");
        }
        // Actions first, in batches the store accepts; the package goes last, so a failure
        // half-way leaves a package with fewer actions, never actions without their package.
        List<Op> batch = new ArrayList<>();
        for (EntityStore.Stored a : inside) {
            batch.addAll(entities.deleteOps(call.namespace(), Collection.ACTIONS, name + "/" + a.doc().path("name").asText(), a.revision()));
            if (batch.size() >= 200) {
                commitDeletes(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            commitDeletes(batch);
        }
        entities.delete(call.namespace(), Collection.PACKAGES, name, p.revision(), call.answerOps(p.doc()));
        call.exchange().reply(200, p.doc());
    }

    private void commitDeletes(List<Op> ops) {
        try {
            entities.store().commit(ops);
        } catch (io.petrel.store.ConflictException e) {
            throw ApiException.conflict(ApiException.CONCURRENT);
        }
    }
}
