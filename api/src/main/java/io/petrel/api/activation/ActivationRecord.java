package io.petrel.api.activation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * One finished activation, as the invoker reports it and OpenWhisk shows it ({@code WhiskActivation}):
 * who ran what, when, with which outcome, its result and its log lines.
 *
 * @param namespace    the namespace that owns (and is billed for) the activation
 * @param name         the action's or trigger's own name, without package
 * @param path         the entity's path inside the namespace: {@code pkg/action} or {@code action}
 * @param subject      the identity that caused it
 * @param statusCode   0 success, 1 application error, 2 action developer error, 3 whisk internal error
 * @param result       the result object ({@code {"error": ...}} on error)
 * @param annotations  OpenWhisk's activation annotations ({@code path}, {@code kind}, {@code limits}, ...)
 */
public record ActivationRecord(String namespace, String name, String path, String subject, String activationId,
                               long start, long end, String version, int statusCode, JsonNode result,
                               ArrayNode annotations, List<String> logs, Optional<String> cause) {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Pattern ID = Pattern.compile("[0-9a-f]{32}");
    private static final List<String> STATUS = List.of("success", "application error", "action developer error", "whisk internal error");

    public ActivationRecord {
        requireNonNull(namespace, "namespace");
        requireNonNull(name, "name");
        requireNonNull(path, "path");
        requireNonNull(subject, "subject");
        requireNonNull(version, "version");
        requireNonNull(result, "result");
        requireNonNull(annotations, "annotations");
        requireNonNull(cause, "cause");
        if (!isValidId(activationId)) {
            throw new IllegalArgumentException("activation id must be 32 lowercase hex characters, got " + activationId);
        }
        if (statusCode < 0 || statusCode >= STATUS.size()) {
            throw new IllegalArgumentException("status code must be 0 to 3, got " + statusCode);
        }
        if (end < start) {
            throw new IllegalArgumentException("activation " + activationId + " ends (" + end + ") before it starts (" + start + ")");
        }
        logs = List.copyOf(logs);
    }

    public static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    public String status() {
        return STATUS.get(statusCode);
    }

    public boolean success() {
        return statusCode == 0;
    }

    /** {@code response} in the extended form OpenWhisk serves: {@code status}, {@code success}, {@code result}. */
    public ObjectNode response() {
        ObjectNode r = NODES.objectNode();
        r.put("status", status());
        r.put("success", success());
        r.set("result", result);
        return r;
    }

    /** The list view ({@code WhiskActivation.summaryAsJson}). */
    public ObjectNode summary() {
        ObjectNode s = NODES.objectNode();
        s.put("namespace", namespace);
        s.put("name", name);
        s.put("version", version);
        s.put("subject", subject);
        s.put("publish", false);
        s.set("annotations", annotations.deepCopy());
        s.put("activationId", activationId);
        s.put("start", start);
        s.put("end", end);
        s.put("duration", end - start);
        s.put("statusCode", statusCode);
        cause.ifPresent(c -> s.put("cause", c));
        return s;
    }

    /** The full record ({@code toExtendedJson}), with the given log lines. */
    public ObjectNode full() {
        ObjectNode f = summary();
        f.remove("statusCode");
        f.set("response", response());
        ArrayNode l = f.putArray("logs");
        logs.forEach(l::add);
        return f;
    }
}
