package io.petrel.invoker;

import io.petrel.container.Outcome;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The container a lease was placed on cannot serve it: it could not be started, or the activation that
 * was initializing it failed its init (then every activation that waited for the same container ends
 * with that init's outcome, as in OpenWhisk).
 */
public final class ContainerUnavailableException extends Exception {
    private final transient Optional<Outcome> initOutcome;

    ContainerUnavailableException(String message, Optional<Outcome> initOutcome, Throwable cause) {
        super(message, cause);
        this.initOutcome = requireNonNull(initOutcome, "initOutcome");
    }

    /** The failed init of the container, when that is why it is unavailable. */
    public Optional<Outcome> initOutcome() {
        return initOutcome;
    }
}
