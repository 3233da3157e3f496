package io.petrel.api.entity;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Action kinds. {@link #known()} is OpenWhisk's runtime manifest (plus {@code python:3}, kept as an
 * alias because actions written for IBM Cloud Functions still name it): what an archive may hold. An
 * instance built from what a zone's invoker can really run is what the API accepts for new actions
 * and lists in {@code GET /}.
 */
public final class Runtimes {
    /**
     * One kind: its family, whether it is the family's default, whether it needs {@code main}, and
     * whether one container may run several activations at once ({@code limits.concurrency > 1}).
     */
    public record Kind(String kind, String family, boolean isDefault, boolean requiresMain, boolean deprecated, boolean concurrent) {
    }

    private static final List<Kind> KINDS = List.of(
            new Kind("nodejs:20", "nodejs", true, false, false, true),
            new Kind("nodejs:18", "nodejs", false, false, false, true),
            new Kind("python:3.10", "python", true, false, false, false),
            new Kind("python:3.11", "python", false, false, false, false),
            new Kind("python:3", "python", false, false, true, false),
            new Kind("swift:5.3", "swift", true, false, false, false),
            new Kind("swift:5.7", "swift", false, false, false, false),
            new Kind("java:8", "java", true, true, false, true),
            new Kind("php:8.1", "php", true, false, false, false),
            new Kind("ruby:2.5", "ruby", true, false, false, false),
            new Kind("go:1.20", "go", true, false, false, false),
            new Kind("dotnet:3.1", "dotnet", true, true, false, false),
            new Kind("dotnet:6.0", "dotnet", false, true, false, false),
            new Kind("rust:1.34", "rust", true, false, false, false));

    private static final Runtimes KNOWN = new Runtimes(KINDS);

    private final List<Kind> kinds;

    public Runtimes(List<Kind> kinds) {
        this.kinds = List.copyOf(kinds);
    }

    /** Every kind OpenWhisk defines, runnable here or not. */
    public static Runtimes known() {
        return KNOWN;
    }

    /** The kinds a region without an invoker declares: Petrel's own runtimes, for API-only nodes and tests. */
    public static Runtimes declared() {
        return new Runtimes(List.of(new Kind("nodejs:20", "nodejs", true, false, false, true),
                new Kind("python:3.11", "python", true, false, false, false), new Kind("python:3", "python", false, false, true, false),
                new Kind("java:21", "java", true, true, false, true)));
    }

    public List<Kind> kinds() {
        return kinds;
    }

    /** The kind a request names, {@code <family>:default} resolved; empty if unknown. */
    public Optional<Kind> resolve(String requested) {
        String k = requested.trim().toLowerCase();
        if (k.endsWith(":default")) {
            String family = k.substring(0, k.length() - ":default".length());
            return kinds.stream().filter(x -> x.family().equals(family) && x.isDefault()).findFirst();
        }
        return kinds.stream().filter(x -> x.kind().equals(k)).findFirst();
    }

    public String validKindsText() {
        StringBuilder b = new StringBuilder();
        for (Kind k : kinds) {
            b.append(k.kind()).append(", ");
        }
        return b.append("blackbox, sequence").toString();
    }

    /** The {@code runtimes} object of {@code GET /}: family to kinds. */
    public ObjectNode manifest() {
        Map<String, ArrayNode> byFamily = new LinkedHashMap<>();
        for (Kind k : kinds) {
            ObjectNode n = JsonNodeFactory.instance.objectNode().put("kind", k.kind()).put("default", k.isDefault())
                    .put("deprecated", k.deprecated()).put("requireMain", k.requiresMain());
            byFamily.computeIfAbsent(k.family(), f -> JsonNodeFactory.instance.arrayNode()).add(n);
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        byFamily.forEach(out::set);
        return out;
    }
}
