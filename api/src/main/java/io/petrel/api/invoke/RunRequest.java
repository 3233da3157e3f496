package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * One activation to run.
 *
 * @param activationId   32 hex characters, the id of the activation record
 * @param transactionId  the request's transaction id, for {@code __OW_TRANSACTION_ID}
 * @param namespace      the namespace that owns the action (and is billed)
 * @param actionName     {@code /ns/pkg/name} or {@code /ns/name}, for {@code __OW_ACTION_NAME}
 * @param version        the action's version; with the name and code it keys warm containers
 * @param revision       the store revision of the action document: a changed action never reuses an old container
 * @param code           what the container is initialized with
 * @param initEnv        init parameters, given to the container as environment
 * @param value          the parameters of this activation (an object)
 * @param apiKey         {@code uuid:key} when the action may see the caller's key ({@code provide-api-key})
 * @param acceptedAtMillis when the API accepted the request, for {@code waitTime}
 */
public record RunRequest(String activationId, String transactionId, String namespace, String actionName, String version,
                         long revision, ActionCode code, Map<String, String> initEnv, JsonNode value, RunLimits limits,
                         Optional<String> apiKey, long acceptedAtMillis) {
    public RunRequest {
        requireNonNull(activationId, "activationId");
        requireNonNull(transactionId, "transactionId");
        requireNonNull(namespace, "namespace");
        requireNonNull(actionName, "actionName");
        requireNonNull(version, "version");
        requireNonNull(code, "code");
        initEnv = Map.copyOf(initEnv);
        requireNonNull(value, "value");
        requireNonNull(limits, "limits");
        requireNonNull(apiKey, "apiKey");
    }
}
