package io.petrel.api.entity;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.http.Exchange;

import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/** A collection listing as OpenWhisk answers it: newest update first, {@code limit}, {@code skip}, {@code count}. */
final class Listing {
    static final int DEFAULT_LIMIT = 30;
    static final int MAX_LIMIT = 200;

    private Listing() {
    }

    static void reply(Exchange ex, Collection c, List<EntityStore.Stored> all, Function<ObjectNode, ObjectNode> view) throws IOException {
        int limit = ex.intParam("limit", DEFAULT_LIMIT);
        if (limit < 0 || limit > MAX_LIMIT) {
            throw ApiException.badRequest("The value '" + limit + "' is not in the range of 0 to " + MAX_LIMIT + " for " + c.path() + ".");
        }
        int skip = ex.intParam("skip", 0);
        if (skip < 0) {
            throw ApiException.badRequest("The value '" + skip + "' is not in the range of 0 to " + Integer.MAX_VALUE + " for skip.");
        }
        if (ex.flag("count")) {
            ex.reply(200, JsonNodeFactory.instance.objectNode().put(c.path(), all.size()));
            return;
        }
        int take = limit == 0 ? MAX_LIMIT : limit;
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        all.stream()
                .map(EntityStore.Stored::doc)
                .sorted(Comparator.comparingLong((ObjectNode d) -> d.path("updated").asLong()).reversed()
                        .thenComparing(d -> d.path("name").asText()))
                .skip(skip).limit(take)
                .map(view)
                .forEach(out::add);
        ex.reply(200, out);
    }
}
