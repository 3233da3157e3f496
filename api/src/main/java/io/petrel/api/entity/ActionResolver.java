package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.auth.Identity;
import io.petrel.api.invoke.Target;
import io.petrel.api.namespace.PolicyRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Finds the action an identity may invoke, following a package binding, with the parameters it
 * inherits: 404 when it does not exist, 403 when it is another tenant's private package or the
 * owner's policy does not let the caller's namespace read or invoke it.
 */
public final class ActionResolver {
    private final EntityStore entities;
    private final EntityCache cache;
    private final PolicyRegistry policies;

    /** {@code cache}: where the documents are read from (the invoke path reads from memory). */
    public ActionResolver(EntityStore entities, EntityCache cache, PolicyRegistry policies) {
        this.entities = requireNonNull(entities, "entities");
        this.cache = requireNonNull(cache, "cache");
        this.policies = requireNonNull(policies, "policies");
    }

    /** {@code /ns/pkg/name} or {@code ns/name}, or a name in {@code defaultNamespace}. */
    public Target resolve(Identity who, String defaultNamespace, String qualified) {
        EntityName.Qualified q = EntityName.parseQualified(qualified, defaultNamespace);
        return resolve(who, q.namespace(), q.pkg(), q.name());
    }

    /** The action {@code ns/pkg/name} ({@code pkg} may be null) as {@code who} may invoke it. */
    public Target resolve(Identity who, String ns, String pkg, String name) {
        String caller = who.namespace();
        Target t;
        if (pkg == null) {
            if (!ns.equals(caller)) {
                throw ApiException.forbidden();
            }
            EntityStore.Stored s = cache.get(ns, Collection.ACTIONS, name).orElseThrow(ApiException::notFound);
            t = new Target(ns, Optional.empty(), name, s.doc(), s.revision(), List.of(), Optional.empty());
        } else {
            EntityStore.Stored seen = readablePackage(caller, ns, pkg);
            EntityStore.Stored bound = seen;
            String boundNs = ns;
            String boundName = pkg;
            JsonNode binding = seen.doc().path("binding");
            if (binding.has("name")) {
                boundNs = binding.path("namespace").asText();
                boundName = binding.path("name").asText();
                bound = readablePackage(caller, boundNs, boundName);
            }
            EntityStore.Stored s = cache.get(boundNs, Collection.ACTIONS, boundName + "/" + name).orElseThrow(ApiException::notFound);
            List<JsonNode> inherited = new ArrayList<>();
            inherited.add(bound.doc().path("parameters"));
            Optional<String> via = Optional.empty();
            if (bound != seen) {
                inherited.add(seen.doc().path("parameters"));
                via = Optional.of(ns + "/" + pkg);
            }
            t = new Target(boundNs, Optional.of(boundName), name, s.doc(), s.revision(), inherited, via);
        }
        if (!t.owner().equals(caller) && !policies.cached(t.owner()).mayInvokePackages(caller)) {
            throw ApiException.forbidden();
        }
        return t;
    }

    private EntityStore.Stored readablePackage(String caller, String ns, String name) {
        EntityName.require(name);
        EntityStore.Stored s = cache.get(ns, Collection.PACKAGES, name).orElseThrow(ApiException::notFound);
        if (!ns.equals(caller) && (!s.doc().path("publish").asBoolean(false) || !policies.cached(ns).mayReadPackages(caller))) {
            throw ApiException.forbidden();
        }
        return s;
    }

    /** The document with its code put back from blobs, for a container's init. */
    public ObjectNode withCode(Target t) {
        return entities.withCode(t.doc());
    }
}
