package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.Op;

import java.util.List;

/**
 * One write as it travels through the Raft log. Several of them share one log entry (group commit);
 * each is applied on its own, in order, and gets its own {@link WriteResult}.
 */
record WriteCmd(Type type, List<OpDto> ops, long leaseId, long ttlMillis, long archivedIndex) {

    /**
     * {@code ARCHIVED} records that the applied log up to {@code archivedIndex} is safe in the backup
     * archive, so every replica may drop its journal up to there; it changes no data and no revision.
     */
    enum Type { COMMIT, GRANT_LEASE, KEEP_ALIVE, REVOKE_LEASE, TICK, ARCHIVED }

    WriteCmd {
        ops = ops == null ? List.of() : List.copyOf(ops);
    }

    static WriteCmd commit(List<Op> ops) {
        return new WriteCmd(Type.COMMIT, ops.stream().map(OpDto::of).toList(), 0, 0, 0);
    }

    static WriteCmd grantLease(long ttlMillis) {
        return new WriteCmd(Type.GRANT_LEASE, List.of(), 0, ttlMillis, 0);
    }

    static WriteCmd keepAlive(long leaseId) {
        return new WriteCmd(Type.KEEP_ALIVE, List.of(), leaseId, 0, 0);
    }

    static WriteCmd revokeLease(long leaseId) {
        return new WriteCmd(Type.REVOKE_LEASE, List.of(), leaseId, 0, 0);
    }

    static WriteCmd tick() {
        return new WriteCmd(Type.TICK, List.of(), 0, 0, 0);
    }

    static WriteCmd archived(long index) {
        return new WriteCmd(Type.ARCHIVED, List.of(), 0, 0, index);
    }

    long approximateBytes() {
        long bytes = 32;
        for (OpDto op : ops) {
            bytes += 32 + op.key().length() + (op.value() == null ? 0 : op.value().length);
        }
        return bytes;
    }

    /** An {@link Op} in a form the codec can carry. */
    record OpDto(boolean put, String key, byte[] value, Expect.Kind expect, long expectRevision, long leaseId) {
        static OpDto of(Op op) {
            return switch (op) {
                case Op.Put p -> new OpDto(true, p.key(), p.value(), p.expect().kind(), p.expect().revision(), p.leaseId());
                case Op.Delete d -> new OpDto(false, d.key(), null, d.expect().kind(), d.expect().revision(), 0);
            };
        }

        Expect expectation() {
            return new Expect(expect, expectRevision);
        }
    }
}
