package io.petrel.api.entity;

import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.http.Exchange;
import io.petrel.api.invoke.ActionInvoke;
import io.petrel.api.namespace.NamespacePolicy;
import io.petrel.api.namespace.PolicyRegistry;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/** {@code /namespaces/{ns}/actions[/{pkg}]/{name}}: actions, in the default package or a package. */
public final class ActionsApi {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Code (48 MB, base64 grows it by a third) plus parameters and the JSON around them. */
    static final long MAX_BODY = Exec.MAX_CODE_BYTES * 4 / 3 + 2L * 1024 * 1024;

    /** Bodies above this are parsed one at a time: a 48 MB action needs about 250 MB of heap while it is read. */
    private static final long LARGE_BODY = 4L * 1024 * 1024;

    private final EntityStore entities;
    private final PolicyRegistry policies;
    private final Semaphore largeBodies = new Semaphore(1, true);
    private final PackagesApi packages;
    private final LongSupplier clock;
    private final Runtimes runtimes;
    private final ActionResolver resolver;
    private final ActionInvoke invoke;

    public ActionsApi(EntityStore entities, PackagesApi packages, PolicyRegistry policies, Runtimes runtimes, ActionResolver resolver,
                      ActionInvoke invoke, LongSupplier clock) {
        this.entities = requireNonNull(entities, "entities");
        this.runtimes = requireNonNull(runtimes, "runtimes");
        this.resolver = requireNonNull(resolver, "resolver");
        this.invoke = requireNonNull(invoke, "invoke");
        this.policies = requireNonNull(policies, "policies");
        this.packages = requireNonNull(packages, "packages");
        this.clock = requireNonNull(clock, "clock");
    }

    public void handle(Call call, List<String> rest) throws IOException {
        Exchange ex = call.exchange();
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
            requireMethod(ex, "GET");
            call.requireOwn();
            Listing.reply(ex, Collection.ACTIONS, entities.list(call.namespace(), Collection.ACTIONS, ""), ActionsApi::listItem);
            return;
        }
        if (rest.size() == 2 && rest.get(1).isEmpty()) {
            requireMethod(ex, "GET");
            PackagesApi.Readable p = packages.resolveBinding(call, packages.readable(call, call.namespace(), rest.get(0)));
            Listing.reply(ex, Collection.ACTIONS, entities.list(p.namespace(), Collection.ACTIONS, p.name() + "/"), ActionsApi::listItem);
            return;
        }
        if (rest.size() > 2) {
            throw ApiException.notFound();
        }
        String pkg = rest.size() == 2 ? EntityName.require(rest.get(0)) : null;
        String name = EntityName.require(rest.get(rest.size() - 1));
        switch (ex.method()) {
            case "GET" -> get(call, pkg, name);
            case "PUT" -> put(call, pkg, name);
            case "DELETE" -> delete(call, pkg, name);
            case "POST" -> invoke.invoke(call, resolver.resolve(call.who(), call.namespace(), pkg, name));
            default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, PUT, DELETE, POST");
        }
    }

    private static void requireMethod(Exchange ex, String method) {
        if (!ex.method().equals(method) && !(method.equals("GET") && ex.method().equals("HEAD"))) {
            throw new ApiException(405, "HTTP method not allowed, supported methods: " + method);
        }
    }

    static ObjectNode listItem(ObjectNode doc) {
        ObjectNode s = Docs.summary(doc);
        s.set("limits", doc.get("limits"));
        s.set("exec", NODES.objectNode().put("binary", doc.path("exec").path("binary").asBoolean(false)));
        return s;
    }

    /** The action the caller may read, following a package binding as OpenWhisk does. */
    private EntityStore.Stored find(Call call, String pkg, String name) {
        if (pkg == null) {
            call.requireOwn();
            return entities.get(call.namespace(), Collection.ACTIONS, name).orElseThrow(ApiException::notFound);
        }
        PackagesApi.Readable p = packages.resolveBinding(call, packages.readable(call, call.namespace(), pkg));
        return entities.get(p.namespace(), Collection.ACTIONS, p.name() + "/" + name).orElseThrow(ApiException::notFound);
    }

    private void get(Call call, String pkg, String name) throws IOException {
        ObjectNode doc = find(call, pkg, name).doc();
        boolean code = call.exchange().param("code").map(v -> !v.equalsIgnoreCase("false")).orElse(true);
        call.exchange().reply(200, code ? entities.withCode(doc) : EntityStore.withoutCode(doc));
    }

    /** The package an action is written into: it must exist in the caller's namespace and not be a binding. */
    private void requireWritablePackage(Call call, String pkg) {
        EntityStore.Stored p = entities.get(call.namespace(), Collection.PACKAGES, pkg).orElseThrow(ApiException::notFound);
        if (p.doc().path("binding").has("name")) {
            throw ApiException.badRequest(ApiException.BINDING);
        }
    }

    private void write(Call call, String pkg, String name) throws IOException {
        call.requireOwn();
        if (pkg != null) {
            requireWritablePackage(call, pkg);
        }
        ObjectNode body = call.exchange().jsonObject(MAX_BODY);
        String ns = call.namespace();
        String fullName = pkg == null ? name : pkg + "/" + name;
        String namespacePath = pkg == null ? ns : ns + "/" + pkg;
        Optional<EntityStore.Stored> old = entities.get(ns, Collection.ACTIONS, fullName);
        long now = clock.getAsLong();
        if (old.isPresent()) {
            if (!call.exchange().flag("overwrite")) {
                throw ApiException.conflict(ApiException.ALREADY_EXISTS);
            }
            ObjectNode doc = Docs.update(old.get().doc(), body, now);
            if (body.has("exec") && !body.get("exec").isNull()) {
                doc.set("exec", Exec.parse(body.get("exec"), ns, runtimes, q -> requireComponent(call, q)));
            }
            if (body.has("parameters")) {
                doc.set("parameters", Docs.parameters(body));
            }
            if (body.has("limits")) {
                doc.set("limits", ActionLimits.merge((ObjectNode) doc.get("limits"), body.get("limits")));
            }
            requireAllowedKind(ns, doc);
            Docs.setAnnotation(doc, "exec", NODES.textNode(doc.path("exec").path("kind").asText()));
            entities.update(ns, Collection.ACTIONS, fullName, doc, old.get(), call.answerOps(doc));
            call.exchange().reply(200, entities.withCode(doc));
            return;
        }
        if (!body.has("exec") || body.get("exec").isNull()) {
            throw ApiException.badRequest("The request content was malformed:\nexec undefined");
        }
        ObjectNode doc = Docs.create(namespacePath, name, body, now);
        doc.set("exec", Exec.parse(body.get("exec"), ns, runtimes, q -> requireComponent(call, q)));
        doc.set("parameters", Docs.parameters(body));
        doc.set("limits", ActionLimits.merge(ActionLimits.defaults(), body.get("limits")));
        if (!Docs.hasAnnotation(doc, "provide-api-key")) {
            Docs.setAnnotation(doc, "provide-api-key", BooleanNode.FALSE);
        }
        requireAllowedKind(ns, doc);
        Docs.setAnnotation(doc, "exec", NODES.textNode(doc.path("exec").path("kind").asText()));
        entities.create(ns, Collection.ACTIONS, fullName, doc, call.answerOps(doc));
        call.exchange().reply(200, doc);
    }

    /** Writes an action; large ones one at a time, from reading the body to sending the answer. */
    private void put(Call call, String pkg, String name) throws IOException {
        long length = call.exchange().contentLength();
        if (length >= 0 && length <= LARGE_BODY) {
            write(call, pkg, name);
            return;
        }
        try {
            if (!largeBodies.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new ApiException(503, "The system is busy with other large actions; retry later.");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "The system is shutting down.");
        }
        try {
            write(call, pkg, name);
        } finally {
            largeBodies.release();
        }
    }

    /** The namespace's policy may limit the kinds its actions use (sequences are made of actions, so they pass). */
    private void requireAllowedKind(String ns, ObjectNode doc) {
        String kind = doc.path("exec").path("kind").asText();
        int concurrency = doc.path("limits").path("concurrency").asInt(1);
        if (concurrency > 1 && !kind.equals("sequence") && runtimes.resolve(kind).map(k -> !k.concurrent()).orElse(false)) {
            throw ApiException.badRequest("Actions of kind " + kind + " run one activation per container: limits.concurrency must be 1, got "
                    + concurrency + ".");
        }
        NamespacePolicy policy = policies.get(ns);
        if (!kind.equals("sequence") && !policy.allowsKind(kind)) {
            throw new ApiException(403, "The namespace's policy does not allow actions of kind '" + kind + "'; allowed kinds: "
                    + policy.allowedKinds().orElseThrow() + ".");
        }
    }

    /** A sequence component must be an action the caller can read. */
    private void requireComponent(Call call, EntityName.Qualified q) {
        Call as = call.in(q.namespace());
        try {
            find(as, q.pkg(), q.name());
        } catch (ApiException e) {
            throw ApiException.badRequest("Sequence component does not exist: " + q + ".");
        }
    }

    private void delete(Call call, String pkg, String name) throws IOException {
        call.requireOwn();
        if (pkg != null) {
            requireWritablePackage(call, pkg);
        }
        String fullName = pkg == null ? name : pkg + "/" + name;
        EntityStore.Stored old = entities.get(call.namespace(), Collection.ACTIONS, fullName).orElseThrow(ApiException::notFound);
        ObjectNode answer = entities.withCode(old.doc());
        entities.delete(call.namespace(), Collection.ACTIONS, fullName, old.revision(), call.answerOps(answer));
        call.exchange().reply(200, answer);
    }
}
