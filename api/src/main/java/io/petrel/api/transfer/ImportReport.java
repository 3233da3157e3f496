package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * What an import did (or, for a dry run, would do), item by item as reports name them
 * ({@code actions/pkg/a}, {@code keys/<uuid>}, {@code policy}). {@code kept}: items a replace
 * would have deleted but may not (the key making the request); {@code unchanged}: items the
 * namespace held already with the same content, which are not written again.
 */
public record ImportReport(String namespace, ArchiveManifest archive, ImportOptions.OnConflict onConflict, boolean dryRun,
                           List<String> created, List<String> overwritten, List<String> skipped, List<String> deleted, List<String> kept,
                           int unchanged) {
    public ImportReport {
        requireNonNull(namespace, "namespace");
        requireNonNull(archive, "archive");
        requireNonNull(onConflict, "onConflict");
        created = List.copyOf(created);
        overwritten = List.copyOf(overwritten);
        skipped = List.copyOf(skipped);
        deleted = List.copyOf(deleted);
        kept = List.copyOf(kept);
    }

    /** Whether the import changed (or would change) anything. */
    public boolean changes() {
        return !created.isEmpty() || !overwritten.isEmpty() || !deleted.isEmpty();
    }

    public ObjectNode toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode n = f.objectNode();
        n.put("namespace", namespace);
        ObjectNode source = n.putObject("archive");
        source.put("namespace", archive.namespace()).put("sourceId", archive.source().id()).put("revision", archive.revision());
        if (archive.since().isPresent()) {
            source.put("since", archive.since().getAsLong());
        } else {
            source.putNull("since");
        }
        n.put("onConflict", onConflict.id());
        n.put("dryRun", dryRun);
        list(n, "created", created);
        list(n, "overwritten", overwritten);
        list(n, "skipped", skipped);
        list(n, "deleted", deleted);
        list(n, "kept", kept);
        n.putObject("unchanged").put("count", unchanged);
        return n;
    }

    private static void list(ObjectNode n, String field, List<String> names) {
        ObjectNode o = n.putObject(field).put("count", names.size());
        ArrayNode a = o.putArray("names");
        names.forEach(a::add);
    }
}
