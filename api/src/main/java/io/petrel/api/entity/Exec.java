package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/** An action's {@code exec}: checked, normalized, and with {@code binary} computed as OpenWhisk does. */
final class Exec {
    static final long MAX_CODE_BYTES = 48L * 1024 * 1024;
    static final int MAX_SEQUENCE_LENGTH = 50;
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/\\r\\n]*={0,2}");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Exec() {
    }

    /**
     * The normalized exec of a request, or a 400/413 naming what is wrong. Sequence components are
     * passed to {@code componentExists}, which throws when one cannot be used.
     */
    static ObjectNode parse(JsonNode exec, String namespace, Runtimes runtimes, Consumer<EntityName.Qualified> componentExists) {
        if (exec == null || !exec.isObject()) {
            throw ApiException.badRequest("The request content was malformed:\nexec must be an object with a kind");
        }
        JsonNode kindNode = exec.get("kind");
        if (kindNode == null || !kindNode.isTextual()) {
            throw ApiException.badRequest("The request content was malformed:\nexec.kind is required");
        }
        String requested = kindNode.asText().trim().toLowerCase();
        ObjectNode out = NODES.objectNode();
        switch (requested) {
            case "sequence" -> {
                JsonNode components = exec.get("components");
                if (components == null || !components.isArray() || components.isEmpty()) {
                    throw ApiException.badRequest("The request content was malformed:\na sequence needs a non-empty components array");
                }
                if (components.size() > MAX_SEQUENCE_LENGTH) {
                    throw ApiException.badRequest("Too many actions in the sequence: " + components.size() + " > " + MAX_SEQUENCE_LENGTH + ".");
                }
                ArrayNode resolved = NODES.arrayNode();
                for (JsonNode c : components) {
                    if (!c.isTextual()) {
                        throw ApiException.badRequest("The request content was malformed:\nsequence components must be strings");
                    }
                    EntityName.Qualified q = EntityName.parseQualified(c.asText(), namespace);
                    componentExists.accept(q);
                    resolved.add(q.toString());
                }
                out.put("kind", "sequence");
                out.set("components", resolved);
                return out;
            }
            case "blackbox" -> {
                JsonNode image = exec.get("image");
                if (image == null || !image.isTextual() || image.asText().isBlank()) {
                    throw ApiException.badRequest("The request content was malformed:\na blackbox action needs an image");
                }
                out.put("kind", "blackbox");
                out.put("image", image.asText().trim());
                String code = optionalText(exec, "code");
                if (code != null) {
                    checkSize(code);
                    out.put("code", code);
                }
                out.put("binary", code != null && isBinary(code));
                copyMain(exec, out);
                return out;
            }
            default -> {
                Runtimes.Kind kind = runtimes.resolve(requested).orElseThrow(() -> ApiException.badRequest(
                        "The specified runtime '" + requested + "' is not supported by this platform. Valid values are: "
                                + runtimes.validKindsText() + "."));
                String code = optionalText(exec, "code");
                if (code == null) {
                    throw ApiException.badRequest("The request content was malformed:\nexec.code is required for kind " + kind.kind());
                }
                checkSize(code);
                out.put("kind", kind.kind());
                out.put("code", code);
                out.put("binary", isBinary(code));
                copyMain(exec, out);
                if (kind.requiresMain() && !out.has("main")) {
                    throw ApiException.badRequest("The request content was malformed:\nkind " + kind.kind() + " requires 'main' (the class name).");
                }
                return out;
            }
        }
    }

    private static void checkSize(String code) {
        long size = code.getBytes(StandardCharsets.UTF_8).length;
        if (size > MAX_CODE_BYTES) {
            throw ApiException.tooLarge("Code", size, MAX_CODE_BYTES);
        }
    }

    private static String optionalText(JsonNode exec, String field) {
        JsonNode v = exec.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("The request content was malformed:\nexec." + field + " must be a string");
        }
        return v.asText();
    }

    private static void copyMain(JsonNode exec, ObjectNode out) {
        String main = optionalText(exec, "main");
        if (main != null && !main.isBlank()) {
            out.put("main", main.trim());
        }
    }

    /** OpenWhisk's test: the trimmed code is non-empty base64 whose length is a multiple of 4. */
    static boolean isBinary(String code) {
        String t = code.trim();
        if (t.isEmpty()) {
            return false;
        }
        String compact = t.replace("\r", "").replace("\n", "");
        return compact.length() % 4 == 0 && BASE64.matcher(t).matches() && !compact.isEmpty();
    }
}
