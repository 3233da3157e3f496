package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/** One entry of an archive as its manifest lists it: where it is, what it is, and its size and SHA-256. */
public record ArchiveEntry(String path, NamespaceArchive.Kind kind, String name, long size, String sha256) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public ArchiveEntry {
        requireNonNull(path, "path");
        requireNonNull(kind, "kind");
        requireNonNull(name, "name");
        requireNonNull(sha256, "sha256");
    }

    public static ArchiveEntry of(NamespaceArchive.Kind kind, String name, long size, String sha256) {
        return new ArchiveEntry(kind.path(name), kind, name, size, sha256);
    }

    ObjectNode toJson() {
        return JsonNodeFactory.instance.objectNode().put("path", path).put("kind", kind.id()).put("name", name).put("size", size)
                .put("sha256", sha256);
    }

    /** Reads and checks one manifest entry; {@code index} only names it in errors. */
    static ArchiveEntry fromJson(JsonNode n, int index) {
        String where = "manifest entry " + (index + 1);
        if (!n.isObject()) {
            throw new ArchiveException(where + " is not a JSON object");
        }
        NamespaceArchive.Kind kind = NamespaceArchive.Kind.ofId(text(n, "kind", where));
        String name = text(n, "name", where);
        String path = text(n, "path", where);
        if (!kind.validName(name)) {
            throw new ArchiveException(where + ": '" + name + "' is not a legal name for a " + kind.id());
        }
        if (!path.equals(kind.path(name))) {
            throw new ArchiveException(where + ": the " + kind.id() + " '" + name + "' must be at '" + kind.path(name) + "', not '" + path + "'");
        }
        JsonNode size = n.get("size");
        if (size == null || !size.canConvertToLong() || !size.isIntegralNumber() || size.asLong() < 0) {
            throw new ArchiveException(where + " (" + path + ") has no valid size");
        }
        if (size.asLong() > kind.maxBytes()) {
            throw new ArchiveException(where + " (" + path + ") is " + size.asLong() + " bytes; a " + kind.id() + " may have at most "
                    + kind.maxBytes());
        }
        String sha = text(n, "sha256", where);
        if (!SHA256.matcher(sha).matches()) {
            throw new ArchiveException(where + " (" + path + ") has no valid sha256 (64 lowercase hex digits)");
        }
        return new ArchiveEntry(path, kind, name, size.asLong(), sha);
    }

    private static String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new ArchiveException(where + " has no '" + field + "'");
        }
        return v.asText();
    }
}
