package io.petrel.api.activation;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.entity.Call;
import io.petrel.api.entity.EntityName;
import io.petrel.api.http.Exchange;

import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * {@code /namespaces/{ns}/activations}: list with OpenWhisk's filters, one record, its result, its
 * logs. Read only: records are written by the invoker through {@link ActivationStore}.
 */
public final class ActivationsApi {
    private static final int DEFAULT_LIMIT = 30;
    private static final int MAX_LIMIT = 200;

    private final ActivationStore activations;

    public ActivationsApi(ActivationStore activations) {
        this.activations = requireNonNull(activations, "activations");
    }

    public void handle(Call call, List<String> rest) throws Exception {
        Exchange ex = call.exchange();
        if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
            throw new ApiException(405, "HTTP method not allowed, supported methods: GET");
        }
        // Activations are private to their namespace, whoever's action produced them.
        call.requireOwn();
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
            list(ex, call.namespace());
            return;
        }
        String id = rest.get(0);
        if (!ActivationRecord.isValidId(id)) {
            throw ApiException.badRequest("The activation id '" + id + "' is not valid: it must be 32 lowercase hexadecimal characters.");
        }
        ObjectNode record = activations.get(call.namespace(), id).orElseThrow(ApiException::notFound);
        if (rest.size() == 1) {
            ex.reply(200, record);
            return;
        }
        if (rest.size() > 2) {
            throw ApiException.notFound();
        }
        switch (rest.get(1)) {
            case "result" -> ex.reply(200, record.get("response"));
            case "logs" -> ex.reply(200, JsonNodeFactory.instance.objectNode().set("logs", record.get("logs")));
            default -> throw ApiException.notFound();
        }
    }

    private void list(Exchange ex, String ns) throws Exception {
        int limit = ex.intParam("limit", DEFAULT_LIMIT);
        if (limit < 0 || limit > MAX_LIMIT) {
            throw ApiException.badRequest("The value '" + limit + "' is not in the range of 0 to " + MAX_LIMIT + " for activations.");
        }
        int skip = ex.intParam("skip", 0);
        if (skip < 0) {
            throw ApiException.badRequest("The value '" + skip + "' is not in the range of 0 to " + Integer.MAX_VALUE + " for skip.");
        }
        long since = ex.longParam("since", 0);
        long upto = ex.longParam("upto", Long.MAX_VALUE);
        if (since < 0 || upto < 0) {
            throw ApiException.badRequest("'since' and 'upto' are epoch milliseconds and must not be negative.");
        }
        Optional<String> path = ex.param("name").map(String::trim).filter(n -> !n.isEmpty()).map(ActivationsApi::path);
        ActivationStore.Query q = new ActivationStore.Query(path, since, upto, skip, limit == 0 ? MAX_LIMIT : limit);
        if (ex.flag("count")) {
            ex.reply(200, JsonNodeFactory.instance.objectNode().put("activations", activations.count(ns, q)));
            return;
        }
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        if (since <= upto) {
            activations.list(ns, q, ex.flag("docs")).forEach(out::add);
        }
        ex.reply(200, out);
    }

    /** {@code action} or {@code pkg/action}, each part a valid entity name. */
    private static String path(String name) {
        String[] parts = name.split("/", -1);
        if (parts.length > 2) {
            throw ApiException.badRequest("The name filter '" + name + "' must be 'action' or 'package/action'.");
        }
        for (String part : parts) {
            EntityName.require(part);
        }
        return name;
    }
}
