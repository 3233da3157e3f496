package io.petrel.backup.format;

import java.io.IOException;

/** A backup object needs a key that was not given, or a different one. */
public final class WrongKeyException extends IOException {
    public WrongKeyException(String message) {
        super(message);
    }
}
