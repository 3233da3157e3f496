package io.petrel.container;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** One activation as the launcher receives it; every field but {@code value} becomes an {@code __OW_*} variable. */
public record RunMessage(JsonNode value, String namespace, String actionName, String actionVersion, String activationId,
                         String transactionId, long deadlineMillis, Optional<String> apiKey) {
    public RunMessage {
        requireNonNull(value, "value");
        requireNonNull(namespace, "namespace");
        requireNonNull(actionName, "actionName");
        requireNonNull(actionVersion, "actionVersion");
        requireNonNull(activationId, "activationId");
        requireNonNull(transactionId, "transactionId");
        requireNonNull(apiKey, "apiKey");
    }
}
