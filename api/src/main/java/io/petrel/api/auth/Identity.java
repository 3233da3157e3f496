package io.petrel.api.auth;

import static java.util.Objects.requireNonNull;

/** Who a request is from: the key's uuid, the namespace it belongs to, and its role there. */
public record Identity(String uuid, String namespace, Role role) {
    public Identity {
        requireNonNull(uuid, "uuid");
        requireNonNull(namespace, "namespace");
        requireNonNull(role, "role");
    }
}
