package io.petrel.container;

import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * What a container is initialized with.
 *
 * @param name   the action's name ({@code /ns/pkg/name}), for messages
 * @param main   the entry point (function name; for java the class, optionally {@code Class#method})
 * @param code   source text, or base64 of a zip (nodejs, python) or jar (java) when {@code binary}; empty: no code
 * @param env    init parameters and {@code __OW_*} values, as environment variables of the action
 */
public record InitMessage(String name, String main, Optional<String> code, boolean binary, Map<String, String> env) {
    public InitMessage {
        requireNonNull(name, "name");
        requireNonNull(main, "main");
        requireNonNull(code, "code");
        env = Map.copyOf(env);
    }
}
