package io.petrel.store.postgres;

import io.petrel.store.StoreException;

/** The database holds a Petrel schema newer than this build knows: running on it could corrupt data. */
public final class SchemaTooNewException extends StoreException {
    public SchemaTooNewException(String message) {
        super(message);
    }
}
