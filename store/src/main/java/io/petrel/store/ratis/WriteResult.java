package io.petrel.store.ratis;

/** What applying one {@link WriteCmd} did; {@code status} says whether it took effect. */
record WriteResult(Status status, long revision, boolean deleted, long leaseId, long ttlMillis,
                   String conflictKey, long actualRevision, String message) {

    enum Status { OK, CONFLICT, LEASE_NOT_FOUND, INVALID, READ_ONLY }

    static WriteResult ok(long revision, boolean deleted) {
        return new WriteResult(Status.OK, revision, deleted, 0, 0, null, 0, null);
    }

    static WriteResult lease(long leaseId, long ttlMillis, boolean existed) {
        return new WriteResult(Status.OK, 0, existed, leaseId, ttlMillis, null, 0, null);
    }

    static WriteResult conflict(String key, long actualRevision) {
        return new WriteResult(Status.CONFLICT, 0, false, 0, 0, key, actualRevision, null);
    }

    static WriteResult leaseNotFound(long leaseId) {
        return new WriteResult(Status.LEASE_NOT_FOUND, 0, false, leaseId, 0, null, 0, null);
    }

    /** A client write refused because the region does not take writes now (see {@link RegionState}). */
    static WriteResult readOnly(String message) {
        return new WriteResult(Status.READ_ONLY, 0, false, 0, 0, null, 0, message);
    }

    static WriteResult invalid(String message) {
        return new WriteResult(Status.INVALID, 0, false, 0, 0, null, 0, message);
    }
}
