package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.transfer.NamespaceArchive.Kind;

import java.util.Iterator;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Moves documents from the archive's namespace to the one it is imported as: every reference to the
 * source namespace (a document's own namespace path, bindings to its own packages, its sequences'
 * components, rules' triggers and actions, a trigger's rule statuses) names the target instead.
 * References to other namespaces stay as they are.
 */
record NamespaceRewrite(String from, String to) {
    NamespaceRewrite {
        requireNonNull(from, "from");
        requireNonNull(to, "to");
    }

    /** {@code from} or {@code from/pkg} as {@code to} or {@code to/pkg}; anything else unchanged. */
    String path(String p) {
        if (p.equals(from)) {
            return to;
        }
        return p.startsWith(from + "/") ? to + p.substring(from.length()) : p;
    }

    /** {@code /from/...} as {@code /to/...}. */
    String qualified(String q) {
        return q.startsWith("/" + from + "/") ? "/" + to + q.substring(from.length() + 1) : q;
    }

    /** A copy of {@code doc} (an item of {@code kind}) as it is stored in the target namespace. */
    ObjectNode apply(Kind kind, ObjectNode doc) {
        ObjectNode out = doc.deepCopy();
        if (from.equals(to)) {
            return out;
        }
        rewriteText(out, "namespace");
        switch (kind) {
            case PACKAGE -> {
                if (out.get("binding") instanceof ObjectNode b) {
                    rewriteText(b, "namespace");
                }
            }
            case ACTION -> {
                if (out.path("exec").get("components") instanceof ArrayNode components) {
                    for (int i = 0; i < components.size(); i++) {
                        components.set(i, components.get(i).isTextual() ? out.textNode(qualified(components.get(i).asText())) : components.get(i));
                    }
                }
            }
            case RULE -> {
                for (String ref : new String[] {"trigger", "action"}) {
                    if (out.get(ref) instanceof ObjectNode r) {
                        rewriteText(r, "path");
                    }
                }
            }
            case TRIGGER -> {
                if (out.get("rules") instanceof ObjectNode rules) {
                    ObjectNode moved = out.objectNode();
                    for (Iterator<Map.Entry<String, JsonNode>> it = rules.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = it.next();
                        JsonNode status = e.getValue().deepCopy();
                        if (status.get("action") instanceof ObjectNode a) {
                            rewriteText(a, "path");
                        }
                        moved.set(path(e.getKey()), status);
                    }
                    out.set("rules", moved);
                }
            }
            default -> {
            }
        }
        return out;
    }

    private void rewriteText(ObjectNode n, String field) {
        if (n.get(field) != null && n.get(field).isTextual()) {
            n.put(field, path(n.get(field).asText()));
        }
    }
}
