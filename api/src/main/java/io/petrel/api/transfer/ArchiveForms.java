package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.StoredJson;
import io.petrel.api.auth.KeyRecord;
import io.petrel.api.blob.BlobManifest;
import io.petrel.api.namespace.NamespacePolicy;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * What each stored value looks like in an archive. The exporter writes these forms, and the importer
 * compares an archive's items with the target's in the same forms, so "unchanged" means the same
 * bytes an export would write.
 */
final class ArchiveForms {
    private final ObjectMapper json;

    ArchiveForms(ObjectMapper json) {
        this.json = requireNonNull(json, "json");
    }

    /** An action's code: kept in its document (small) or as a blob. */
    sealed interface Code permits InlineCode, BlobCode {
        long size();

        String sha256();
    }

    record InlineCode(byte[] bytes, String sha256) implements Code {
        @Override
        public long size() {
            return bytes.length;
        }
    }

    record BlobCode(BlobManifest manifest) implements Code {
        @Override
        public long size() {
            return manifest.size();
        }

        @Override
        public String sha256() {
            return manifest.sha256();
        }
    }

    /** An entity document as archived (for an action: without its code), and the code it had. */
    record Entity(ObjectNode doc, Optional<Code> code) {
    }

    /** A stored entity document in archive form. */
    Entity entity(ObjectNode stored) {
        ObjectNode doc = stored.deepCopy();
        if (!(doc.get("exec") instanceof ObjectNode exec)) {
            return new Entity(doc, Optional.empty());
        }
        Optional<Code> code = Optional.empty();
        JsonNode inline = exec.remove("code");
        JsonNode blob = exec.remove("codeBlob");
        if (inline != null && inline.isTextual()) {
            byte[] bytes = inline.asText().getBytes(StandardCharsets.UTF_8);
            code = Optional.of(new InlineCode(bytes, Digests.sha256(bytes)));
        } else if (blob != null && blob.isObject()) {
            code = Optional.of(new BlobCode(BlobManifest.fromJson(blob)));
        }
        return new Entity(doc, code);
    }

    /** A key identity: what the store keeps of a key, without its namespace (the importer's target decides that). */
    ObjectNode key(KeyRecord r) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("uuid", r.uuid());
        n.put("role", r.role());
        n.put("created", r.created());
        n.put("salt", r.salt());
        n.put("hash", r.hash());
        return n;
    }

    /** An artifact's metadata without its namespace and blob manifest (the data entry is the blob). */
    ObjectNode artifact(ObjectNode storedMeta) {
        ObjectNode n = storedMeta.deepCopy();
        n.remove("namespace");
        n.remove("blob");
        return n;
    }

    /** A policy, normalized the way the API writes it. */
    ObjectNode policy(JsonNode stored) {
        return NamespacePolicy.fromJson(stored).toJson();
    }

    byte[] bytes(JsonNode n) {
        return StoredJson.bytes(json, n);
    }

    String digest(JsonNode n) {
        return Digests.sha256(bytes(n));
    }
}
