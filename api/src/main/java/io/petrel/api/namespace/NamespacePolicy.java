package io.petrel.api.namespace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.entity.EntityName;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A namespace's security policy, kept and replicated like its entities:
 *
 * @param allowedKinds     the action kinds its actions may use (empty: any kind), OpenWhisk's {@code allowedKinds}
 * @param storeActivations whether its activations are recorded, OpenWhisk's {@code storeActivations}
 * @param packageReaders   namespaces that may read its published packages ({@code *}: all, as in OpenWhisk)
 * @param packageInvokers  namespaces that may invoke the actions of its published packages
 */
public record NamespacePolicy(Optional<List<String>> allowedKinds, boolean storeActivations, List<String> packageReaders,
                              List<String> packageInvokers) {
    public static final String ANYONE = "*";
    public static final NamespacePolicy DEFAULT = new NamespacePolicy(Optional.empty(), true, List.of(ANYONE), List.of(ANYONE));
    private static final Set<String> FIELDS = Set.of("allowedKinds", "storeActivations", "packageReaders", "packageInvokers");

    public NamespacePolicy {
        requireNonNull(allowedKinds, "allowedKinds");
        allowedKinds = allowedKinds.map(List::copyOf);
        packageReaders = List.copyOf(packageReaders);
        packageInvokers = List.copyOf(packageInvokers);
    }

    public boolean allowsKind(String kind) {
        return allowedKinds.map(k -> k.contains(kind)).orElse(true);
    }

    public boolean mayReadPackages(String namespace) {
        return packageReaders.contains(ANYONE) || packageReaders.contains(namespace);
    }

    public boolean mayInvokePackages(String namespace) {
        return packageInvokers.contains(ANYONE) || packageInvokers.contains(namespace);
    }

    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        allowedKinds.ifPresentOrElse(k -> k.forEach(n.putArray("allowedKinds")::add), () -> n.putNull("allowedKinds"));
        n.put("storeActivations", storeActivations);
        ArrayNode readers = n.putArray("packageReaders");
        packageReaders.forEach(readers::add);
        ArrayNode invokers = n.putArray("packageInvokers");
        packageInvokers.forEach(invokers::add);
        return n;
    }

    public static NamespacePolicy fromJson(JsonNode n) {
        return DEFAULT.merge(n);
    }

    /** This policy with the fields {@code changes} sets; unknown fields and wrong types are refused with 400. */
    public NamespacePolicy merge(JsonNode changes) {
        if (!changes.isObject()) {
            throw ApiException.badRequest("The request content was malformed:\na policy is a JSON object");
        }
        Optional<List<String>> kinds = allowedKinds;
        boolean store = storeActivations;
        List<String> readers = packageReaders;
        List<String> invokers = packageInvokers;
        for (Iterator<Map.Entry<String, JsonNode>> it = changes.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "allowedKinds" -> kinds = v.isNull() ? Optional.empty() : Optional.of(strings(e.getKey(), v, false));
                case "storeActivations" -> {
                    if (!v.isBoolean()) {
                        throw ApiException.badRequest("Policy 'storeActivations' must be true or false, got " + v);
                    }
                    store = v.asBoolean();
                }
                case "packageReaders" -> readers = strings(e.getKey(), v, true);
                case "packageInvokers" -> invokers = strings(e.getKey(), v, true);
                default -> throw ApiException.badRequest("Unknown policy field '" + e.getKey() + "'; known fields: "
                        + FIELDS.stream().sorted().toList());
            }
        }
        return new NamespacePolicy(kinds, store, readers, invokers);
    }

    private static List<String> strings(String field, JsonNode v, boolean namespaces) {
        if (!v.isArray()) {
            throw ApiException.badRequest("Policy '" + field + "' must be an array of strings, got " + v);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual() || s.asText().isBlank()) {
                throw ApiException.badRequest("Policy '" + field + "' must be an array of strings, got " + v);
            }
            if (namespaces && !s.asText().equals(ANYONE) && !EntityName.isValidNamespace(s.asText())) {
                throw ApiException.badRequest("Policy '" + field + "': '" + s.asText() + "' is not a namespace name or '*'");
            }
            out.add(s.asText());
        }
        return out;
    }
}
