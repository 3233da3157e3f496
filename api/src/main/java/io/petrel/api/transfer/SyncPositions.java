package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.StoredJson;
import io.petrel.store.Expect;
import io.petrel.store.Store;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Where a namespace's copy stands: {@code sync/<ns>} in the region that holds the copy, written by
 * every import that made the namespace exactly an archive's content (onConflict=replace), removed by
 * any other import. Keeping it in the target, not on the machine that ran the sync, lets any
 * machine continue a sync, and a copy that was changed by another import starts over.
 */
public final class SyncPositions {
    static final String PREFIX = "sync/";
    private final Store store;
    private final ObjectMapper json;

    /**
     * The namespace holds exactly what {@code sourceNamespace} (incarnation {@code sourceId}) held at
     * {@code revision} of its store, as of {@code synced} (milliseconds); {@code targetRevision} is
     * this store's revision when the import was done, so an item of the copy changed after it was
     * changed by someone else.
     */
    public record Position(String sourceId, String sourceNamespace, long revision, long synced, long targetRevision) {
        public Position {
            requireNonNull(sourceId, "sourceId");
            requireNonNull(sourceNamespace, "sourceNamespace");
        }

        public ObjectNode toJson() {
            return JsonNodeFactory.instance.objectNode().put("sourceId", sourceId).put("sourceNamespace", sourceNamespace)
                    .put("revision", revision).put("synced", synced).put("targetRevision", targetRevision);
        }

        static Position fromJson(JsonNode n) {
            return new Position(n.path("sourceId").asText(), n.path("sourceNamespace").asText(), n.path("revision").asLong(),
                    n.path("synced").asLong(), n.path("targetRevision").asLong(Long.MAX_VALUE));
        }
    }

    public SyncPositions(Store store, ObjectMapper json) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
    }

    public Optional<Position> get(String ns) {
        return store.get(PREFIX + ns).map(kv -> Position.fromJson(StoredJson.object(json, kv.value(), "sync position " + kv.key())));
    }

    void put(String ns, Position position) {
        store.put(PREFIX + ns, StoredJson.bytes(json, position.toJson()), Expect.any());
    }

    /** Forgets the namespace's position (another import changed it, or the namespace is deleted). */
    public void delete(String ns) {
        store.delete(PREFIX + ns, Expect.any());
    }
}
