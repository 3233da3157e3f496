package io.petrel.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * JSON documents as store values. A value that does not parse was written by a broken or foreign
 * writer; it fails loudly, naming what it is, instead of being read as something else.
 */
public final class StoredJson {
    private StoredJson() {
    }

    public static byte[] bytes(ObjectMapper json, JsonNode node) {
        try {
            return json.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode tree(ObjectMapper json, byte[] value, String what) {
        try {
            return json.readTree(value);
        } catch (IOException e) {
            throw new UncheckedIOException(what + " is unreadable", e);
        }
    }

    /** A stored JSON object; anything else is as unreadable as broken JSON. */
    public static ObjectNode object(ObjectMapper json, byte[] value, String what) {
        if (tree(json, value, what) instanceof ObjectNode o) {
            return o;
        }
        throw new UncheckedIOException(new IOException(what + " is not a JSON object"));
    }
}
