package io.petrel.store;

/**
 * The region does not take writes now: it is a standby, is being promoted, was demoted, or is a primary
 * that lost its fencing lease. The message says which and names the primary when it is known. A write
 * refused before it was ordered was not applied; {@link #mayHaveApplied()} says when that is unknown.
 */
public final class RegionReadOnlyException extends StoreException {
    private final boolean mayHaveApplied;

    public RegionReadOnlyException(String message, boolean mayHaveApplied) {
        super(message, null);
        this.mayHaveApplied = mayHaveApplied;
    }

    public boolean mayHaveApplied() {
        return mayHaveApplied;
    }
}
