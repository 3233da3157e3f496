package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * An action resolved for an invocation: where it lives, its document, and the parameters it inherits.
 *
 * @param owner       the namespace that holds the action
 * @param pkg         its package, if any (the bound package when reached through a binding)
 * @param name        the action's own name
 * @param doc         the stored document (code possibly still in a blob)
 * @param revision    the document's store revision
 * @param inherited   parameter arrays from the lowest precedence up: the package's, then the binding's
 * @param binding     {@code ns/name} of the binding the action was reached through
 */
public record Target(String owner, Optional<String> pkg, String name, ObjectNode doc, long revision, List<JsonNode> inherited,
                     Optional<String> binding) {
    public Target {
        requireNonNull(owner, "owner");
        requireNonNull(pkg, "pkg");
        requireNonNull(name, "name");
        requireNonNull(doc, "doc");
        inherited = List.copyOf(inherited);
        requireNonNull(binding, "binding");
    }

    /** {@code pkg/name} or {@code name}: the path inside the owner's namespace. */
    public String localPath() {
        return pkg.map(p -> p + "/" + name).orElse(name);
    }

    /** {@code owner/pkg/name}: the {@code path} annotation of its activations. */
    public String fullPath() {
        return owner + "/" + localPath();
    }

    public String kind() {
        return doc.path("exec").path("kind").asText();
    }

    public boolean annotation(String key, boolean whenAbsent) {
        for (JsonNode a : doc.path("annotations")) {
            if (key.equals(a.path("key").asText())) {
                JsonNode v = a.get("value");
                return v != null && (v.asBoolean(false) || "true".equalsIgnoreCase(v.asText()));
            }
        }
        return whenAbsent;
    }

    public Optional<JsonNode> annotationValue(String key) {
        for (JsonNode a : doc.path("annotations")) {
            if (key.equals(a.path("key").asText())) {
                return Optional.ofNullable(a.get("value"));
            }
        }
        return Optional.empty();
    }
}
