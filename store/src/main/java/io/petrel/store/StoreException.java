package io.petrel.store;

/** Every failure the store reports; subclasses say what kind, the message says what exactly. */
public class StoreException extends RuntimeException {
    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
