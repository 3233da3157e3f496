package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** The fields every entity has, checked and merged the way OpenWhisk does. */
final class Docs {
    static final long MAX_PARAMETERS_BYTES = 1024 * 1024;
    private static final Pattern SEMVER = Pattern.compile("\\d+\\.\\d+\\.\\d+");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Docs() {
    }

    /**
     * A new document from a PUT body: the common fields, taken from the body where it has them.
     * {@code namespace} and {@code name} come from the URL, never the body.
     */
    static ObjectNode create(String namespacePath, String name, ObjectNode body, long now) {
        ObjectNode doc = NODES.objectNode();
        doc.put("namespace", namespacePath);
        doc.put("name", name);
        doc.put("version", body.has("version") ? version(body.get("version")) : "0.0.1");
        doc.put("publish", bool(body, "publish", false));
        doc.set("annotations", keyValues(body, "annotations"));
        doc.put("updated", now);
        return doc;
    }

    /**
     * An updated document: fields present in the body replace the old ones, the others are kept,
     * and the patch version goes up unless the body sets a version.
     */
    static ObjectNode update(ObjectNode old, ObjectNode body, long now) {
        ObjectNode doc = old.deepCopy();
        doc.put("version", body.has("version") ? version(body.get("version")) : bumpPatch(old.path("version").asText("0.0.0")));
        if (body.has("publish")) {
            doc.put("publish", bool(body, "publish", false));
        }
        if (body.has("annotations")) {
            doc.set("annotations", keyValues(body, "annotations"));
        }
        doc.put("updated", now);
        return doc;
    }

    static String bumpPatch(String version) {
        String[] p = version.split("\\.");
        if (p.length != 3) {
            return "0.0.1";
        }
        try {
            return p[0] + "." + p[1] + "." + (Long.parseLong(p[2]) + 1);
        } catch (NumberFormatException e) {
            return "0.0.1";
        }
    }

    private static String version(JsonNode v) {
        if (!v.isTextual() || !SEMVER.matcher(v.asText()).matches()) {
            throw ApiException.badRequest("The request content was malformed:\nversion must be a semantic version like 0.0.1, got " + v);
        }
        return v.asText();
    }

    static boolean bool(ObjectNode body, String field, boolean fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest("The request content was malformed:\n" + field + " must be a boolean, got " + v);
        }
        return v.booleanValue();
    }

    /** An {@code annotations} or {@code parameters} array: objects with a string {@code key} and a {@code value}. */
    static ArrayNode keyValues(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return NODES.arrayNode();
        }
        if (!v.isArray()) {
            throw ApiException.badRequest("The request content was malformed:\n" + field + " must be an array of {key, value}, got "
                    + v.getNodeType().toString().toLowerCase());
        }
        ArrayNode out = NODES.arrayNode();
        for (JsonNode item : v) {
            if (!item.isObject() || !item.path("key").isTextual()) {
                throw ApiException.badRequest("The request content was malformed:\neach of " + field + " must be an object with a string key");
            }
            ObjectNode kv = NODES.objectNode();
            kv.put("key", item.get("key").asText());
            kv.set("value", item.has("value") ? item.get("value") : NODES.nullNode());
            if (item.path("init").asBoolean(false)) {
                kv.put("init", true);
            }
            out.add(kv);
        }
        return out;
    }

    /** Parameters of an action, package or trigger, within OpenWhisk's 1 MB. */
    static ArrayNode parameters(ObjectNode body) {
        ArrayNode params = keyValues(body, "parameters");
        long size = params.toString().getBytes(StandardCharsets.UTF_8).length;
        if (size > MAX_PARAMETERS_BYTES) {
            throw ApiException.tooLarge("Parameters", size, MAX_PARAMETERS_BYTES);
        }
        return params;
    }

    /** Sets annotation {@code key} to {@code value}, replacing an existing one. */
    static void setAnnotation(ObjectNode doc, String key, JsonNode value) {
        ArrayNode annotations = (ArrayNode) doc.get("annotations");
        for (JsonNode a : annotations) {
            if (key.equals(a.path("key").asText())) {
                ((ObjectNode) a).set("value", value);
                return;
            }
        }
        annotations.add(NODES.objectNode().put("key", key).set("value", value));
    }

    static boolean hasAnnotation(ObjectNode doc, String key) {
        for (JsonNode a : doc.path("annotations")) {
            if (key.equals(a.path("key").asText())) {
                return true;
            }
        }
        return false;
    }

    /** The fields every list item carries. */
    static ObjectNode summary(ObjectNode doc) {
        ObjectNode s = NODES.objectNode();
        for (String f : new String[] {"namespace", "name", "version", "publish", "annotations", "updated"}) {
            if (doc.has(f)) {
                s.set(f, doc.get(f));
            }
        }
        return s;
    }
}
