package io.petrel.store;

/** A write's {@link Expect} did not hold; nothing was changed. */
public final class ConflictException extends StoreException {
    private final String key;
    private final long actualRevision;

    public ConflictException(String key, Expect expected, long actualRevision) {
        super("conflict on key '" + key + "': expected " + expected + ", but "
                + (actualRevision == 0 ? "it is absent" : "its revision is " + actualRevision));
        this.key = key;
        this.actualRevision = actualRevision;
    }

    public String key() {
        return key;
    }

    /** The key's modification revision when the write was applied; 0 if it was absent. */
    public long actualRevision() {
        return actualRevision;
    }
}
