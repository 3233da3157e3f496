package io.petrel.api.blob;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * What a stored blob is made of: the SHA-256 and size of the whole, and its chunks in order. The
 * entity that owns the blob keeps its manifest; the chunks are shared by content.
 */
public record BlobManifest(String sha256, long size, List<String> chunks) {
    public BlobManifest {
        requireNonNull(sha256, "sha256");
        chunks = List.copyOf(chunks);
    }

    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("sha256", sha256);
        n.put("size", size);
        ArrayNode a = n.putArray("chunks");
        chunks.forEach(a::add);
        return n;
    }

    public static BlobManifest fromJson(JsonNode n) {
        List<String> chunks = new ArrayList<>();
        n.path("chunks").forEach(c -> chunks.add(c.asText()));
        return new BlobManifest(n.path("sha256").asText(), n.path("size").asLong(), chunks);
    }
}
