package io.petrel.backup.target;

import java.io.IOException;

/** The backup target has no object of the name asked for. */
public final class NoSuchObjectException extends IOException {
    public NoSuchObjectException(String message) {
        super(message);
    }
}
