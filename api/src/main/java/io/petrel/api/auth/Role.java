package io.petrel.api.auth;

import io.petrel.api.ApiException;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a key may do in its own namespace. A key stored without a role (made before roles existed,
 * or OpenWhisk's development keys) is a namespace admin, as every OpenWhisk key is.
 */
public enum Role {
    /** Everything, including the namespace's security policy. */
    ADMIN,
    /** Everything but the security policy: entities, invocations, activations, artifacts. */
    DEVELOPER,
    /** Invoke actions and fire triggers, and read the activations and limits that go with it. */
    INVOKER,
    /** Read everything, change nothing. */
    READER;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role parse(String role) {
        try {
            return valueOf(role.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw ApiException.badRequest("Unknown key role '" + role + "'; roles are "
                    + Arrays.stream(values()).map(Role::id).toList() + ".");
        }
    }

    /**
     * Whether a key of this role may send {@code method} to {@code collection} ({@code actions},
     * {@code policy}, ...) of its own namespace.
     */
    public boolean allows(String method, String collection) {
        boolean read = method.equals("GET") || method.equals("HEAD");
        return switch (this) {
            case ADMIN -> true;
            case DEVELOPER -> read || !collection.equals("policy");
            case READER -> read;
            case INVOKER -> (method.equals("POST") && (collection.equals("actions") || collection.equals("triggers")))
                    || (read && (collection.equals("activations") || collection.equals("limits")));
        };
    }
}
