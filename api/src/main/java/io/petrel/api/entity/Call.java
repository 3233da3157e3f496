package io.petrel.api.entity;

import io.petrel.api.ApiException;
import io.petrel.api.auth.Identity;
import io.petrel.api.http.Exchange;

import static java.util.Objects.requireNonNull;

/**
 * One entity request: the exchange, who made it, and the namespace in its URL ({@code _} already
 * resolved). A caller may write only its own namespace; it may read another only where OpenWhisk
 * allows (published packages and their actions).
 */
public record Call(Exchange exchange, Identity who, String namespace) {
    public Call {
        requireNonNull(exchange, "exchange");
        requireNonNull(who, "who");
        requireNonNull(namespace, "namespace");
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
