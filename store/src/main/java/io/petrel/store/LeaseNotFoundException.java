package io.petrel.store;

/** The lease does not exist: it lapsed, was revoked, or never was. */
public final class LeaseNotFoundException extends StoreException {
    public LeaseNotFoundException(long leaseId) {
        super("lease " + leaseId + " not found (expired, revoked or never granted)");
    }
}
