package io.petrel.api.entity;

import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;

import java.util.List;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The part of OpenWhisk's catalog that tutorials expect: {@code /whisk.system/utils}, a published
 * package with {@code echo} and {@code sort} (Node.js). Seeded with the development identities.
 */
public final class Catalog {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static final String NAMESPACE = "whisk.system";
    static final String PACKAGE = "utils";

    private static final String ECHO = """
            /**
             * Returns its parameters: handy to see what an action, a sequence step or a trigger receives.
             */
            function main(params) {
                return params || {};
            }
            """;

    private static final String SORT = """
            /**
             * Sorts the strings in params.lines.
             * Returns { length: how many lines, lines: the lines in order }.
             */
            function main(params) {
                const lines = Array.isArray(params.lines) ? params.lines.slice() : [];
                lines.sort();
                return { length: lines.length, lines: lines };
            }
            """;

    private final EntityStore entities;
    private final LongSupplier clock;

    public Catalog(EntityStore entities, LongSupplier clock) {
        this.entities = requireNonNull(entities, "entities");
        this.clock = requireNonNull(clock, "clock");
    }

    /** Creates what is missing of {@code /whisk.system/utils}; returns how many entities it created. */
    public int seed() {
        long now = clock.getAsLong();
        int created = 0;
        ObjectNode pkgBody = NODES.objectNode().put("publish", true);
        pkgBody.putArray("annotations").addObject().put("key", "description").put("value", "Building blocks that format and assemble data");
        ObjectNode pkg = Docs.create(NAMESPACE, PACKAGE, pkgBody, now);
        pkg.set("parameters", Docs.parameters(pkgBody));
        pkg.set("binding", NODES.objectNode());
        created += createIfMissing(Collection.PACKAGES, PACKAGE, pkg);
        for (var action : List.of(List.of("echo", ECHO, "Returns the input"), List.of("sort", SORT, "Sorts an array of strings"))) {
            ObjectNode body = NODES.objectNode();
            body.putObject("exec").put("kind", "nodejs:default").put("code", action.get(1));
            body.putArray("annotations").addObject().put("key", "description").put("value", action.get(2));
            ObjectNode doc = Docs.create(NAMESPACE + "/" + PACKAGE, action.get(0), body, now);
            doc.set("exec", Exec.parse(body.get("exec"), NAMESPACE, Runtimes.known(), q -> {
            }));
            doc.set("parameters", Docs.parameters(body));
            doc.set("limits", ActionLimits.defaults());
            Docs.setAnnotation(doc, "provide-api-key", BooleanNode.FALSE);
            Docs.setAnnotation(doc, "exec", NODES.textNode(doc.path("exec").path("kind").asText()));
            created += createIfMissing(Collection.ACTIONS, PACKAGE + "/" + action.get(0), doc);
        }
        return created;
    }

    private int createIfMissing(Collection c, String name, ObjectNode doc) {
        try {
            entities.create(NAMESPACE, c, name, doc, List.of());
            return 1;
        } catch (ApiException e) {
            if (e.status() == 409) {
                return 0; // another zone seeded it, or an earlier start did
            }
            throw e;
        }
    }
}
