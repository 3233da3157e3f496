package io.petrel.api.auth;

import static java.util.Objects.requireNonNull;

/** Who a request is from: the key's uuid and the namespace it belongs to. */
public record Identity(String uuid, String namespace) {
    public Identity {
        requireNonNull(uuid, "uuid");
        requireNonNull(namespace, "namespace");
    }
}
