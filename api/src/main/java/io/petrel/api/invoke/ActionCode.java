package io.petrel.api.invoke;

import static java.util.Objects.requireNonNull;

/**
 * The code of an action as its container is initialized with it.
 *
 * @param kind   a kind the runner can run ({@code nodejs:20}, {@code python:3.11}, {@code java:21})
 * @param code   source text, or base64 of a zip (nodejs, python) or jar (java) when {@code binary}
 * @param main   the entry point: a function name, or for java the class ({@code com.example.Hello}, optionally {@code #method})
 */
public record ActionCode(String kind, String code, boolean binary, String main) {
    public ActionCode {
        requireNonNull(kind, "kind");
        requireNonNull(code, "code");
        requireNonNull(main, "main");
    }
}
