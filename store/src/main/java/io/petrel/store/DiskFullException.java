package io.petrel.store;

/** The leader's disk is below its free-space reserve: the write was refused before it was logged. */
public final class DiskFullException extends StoreException {
    public DiskFullException(String message) {
        super(message);
    }
}
