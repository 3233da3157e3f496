package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;

/** An action's {@code limits}, with OpenWhisk's defaults and bounds. */
final class ActionLimits {
    static final int TIMEOUT_MIN = 100, TIMEOUT_DEFAULT = 60_000, TIMEOUT_MAX = 300_000;
    static final int MEMORY_MIN = 128, MEMORY_DEFAULT = 256, MEMORY_MAX = 512;
    static final int LOGS_MIN = 0, LOGS_DEFAULT = 10, LOGS_MAX = 10;
    static final int CONCURRENCY_MIN = 1, CONCURRENCY_DEFAULT = 1, CONCURRENCY_MAX = 500;

    private ActionLimits() {
    }

    static ObjectNode defaults() {
        return JsonNodeFactory.instance.objectNode().put("timeout", TIMEOUT_DEFAULT).put("memory", MEMORY_DEFAULT)
                .put("logs", LOGS_DEFAULT).put("concurrency", CONCURRENCY_DEFAULT);
    }

    /** {@code base} with the limits the request sets, each checked against its bounds. */
    static ObjectNode merge(ObjectNode base, JsonNode requested) {
        ObjectNode out = base.deepCopy();
        if (requested == null || requested.isNull()) {
            return out;
        }
        if (!requested.isObject()) {
            throw ApiException.badRequest("The request content was malformed:\nlimits must be an object");
        }
        set(out, requested, "timeout", TIMEOUT_MIN, TIMEOUT_MAX, "Time limit", "milliseconds");
        set(out, requested, "memory", MEMORY_MIN, MEMORY_MAX, "Memory limit", "MB");
        set(out, requested, "logs", LOGS_MIN, LOGS_MAX, "Log limit", "MB");
        set(out, requested, "concurrency", CONCURRENCY_MIN, CONCURRENCY_MAX, "Concurrency limit", "activations");
        return out;
    }

    private static void set(ObjectNode out, JsonNode requested, String field, int min, int max, String what, String unit) {
        JsonNode v = requested.get(field);
        if (v == null || v.isNull()) {
            return;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw ApiException.badRequest("The request content was malformed:\nlimits." + field + " must be an integer");
        }
        int n = v.intValue();
        if (n < min) {
            throw ApiException.badRequest(what + " " + n + " " + unit + " below allowed threshold of " + min + " " + unit + ".");
        }
        if (n > max) {
            throw ApiException.badRequest(what + " " + n + " " + unit + " exceeds allowed threshold of " + max + " " + unit + ".");
        }
        out.put(field, n);
    }
}
