package io.petrel.api.transfer;

/**
 * An archive that is not a valid Petrel namespace archive: not a zip, someone else's zip, damaged,
 * truncated, changed after it was written, or holding something that is not a valid item. The
 * message says which, and where; an import that meets one changes nothing.
 */
public final class ArchiveException extends RuntimeException {
    public ArchiveException(String message) {
        super(message);
    }

    public ArchiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
