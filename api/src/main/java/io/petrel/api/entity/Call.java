package io.petrel.api.entity;

import io.petrel.api.ApiException;
import io.petrel.api.auth.Identity;
import io.petrel.api.http.Exchange;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.store.Op;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * One entity request: the exchange, who made it, and the namespace in its URL ({@code _} already
 * resolved). A caller may write only its own namespace; it may read another only where OpenWhisk
 * allows (published packages and their actions).
 */
public record Call(Exchange exchange, Identity who, String namespace, RequestLog requests) {
    public Call {
        requireNonNull(exchange, "exchange");
        requireNonNull(who, "who");
        requireNonNull(namespace, "namespace");
        requireNonNull(requests, "requests");
    }

    /** The same call, about another namespace (a reference to another tenant's entity). */
    public Call in(String otherNamespace) {
        return new Call(exchange, who, otherNamespace, requests);
    }

    /** The ops that record {@code body} as this write's 200 answer, for a retry with the same request id. */
    public List<Op> answerOps(JsonNode body) {
        return requests.recordOps(this, 200, body);
    }

    public boolean own() {
        return namespace.equals(who.namespace());
    }

    /** Throws 403 unless the namespace is the caller's. */
    public void requireOwn() {
        if (!own()) {
            throw ApiException.forbidden();
        }
    }
}
