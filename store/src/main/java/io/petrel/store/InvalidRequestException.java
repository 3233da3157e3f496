package io.petrel.store;

/** The request itself is wrong (an empty or oversized key or value, a bad limit ...); nothing was changed. */
public final class InvalidRequestException extends StoreException {
    public InvalidRequestException(String message) {
        super(message);
    }
}
