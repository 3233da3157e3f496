package io.petrel.store;

/**
 * No majority of zones could be reached in time, so the request could not be ordered. For a write
 * this means it was not acknowledged; local reads still work.
 */
public final class NoQuorumException extends StoreException {
    public NoQuorumException(String message, Throwable cause) {
        super(message, cause);
    }
}
