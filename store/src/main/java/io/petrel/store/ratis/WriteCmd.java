package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.Op;

import java.util.List;

/**
 * One write as it travels through the Raft log. Several of them share one log entry (group commit);
 * each is applied on its own, in order, and gets its own {@link WriteResult}.
 */
record WriteCmd(Type type, List<OpDto> ops, long leaseId, long ttlMillis, long archivedIndex, Replayed replayed, RegionState region) {

    /**
     * {@code ARCHIVED} records that the applied log up to {@code archivedIndex} is safe in the backup
     * archive, so every replica may drop its journal up to there; it changes no data and no revision.
     *
     * <p>{@code REPLAY} applies one entry of the cluster a standby follows ({@link Replayed}), and
     * {@code REGION_ROLE} changes the region's disaster-recovery role ({@link RegionState}).
     */
    enum Type { COMMIT, GRANT_LEASE, KEEP_ALIVE, REVOKE_LEASE, TICK, ARCHIVED, REPLAY, REGION_ROLE }

    /** Whether this is a write of the region's own clients (refused while the region does not take writes). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    boolean isClientWrite() {
        return switch (type) {
            case COMMIT, GRANT_LEASE, KEEP_ALIVE, REVOKE_LEASE, TICK -> true;
            case ARCHIVED, REPLAY, REGION_ROLE -> false;
        };
    }

    WriteCmd {
        ops = ops == null ? List.of() : List.copyOf(ops);
    }

    static WriteCmd commit(List<Op> ops) {
        return new WriteCmd(Type.COMMIT, ops.stream().map(OpDto::of).toList(), 0, 0, 0, null, null);
    }

    static WriteCmd grantLease(long ttlMillis) {
        return new WriteCmd(Type.GRANT_LEASE, List.of(), 0, ttlMillis, 0, null, null);
    }

    static WriteCmd keepAlive(long leaseId) {
        return new WriteCmd(Type.KEEP_ALIVE, List.of(), leaseId, 0, 0, null, null);
    }

    static WriteCmd revokeLease(long leaseId) {
        return new WriteCmd(Type.REVOKE_LEASE, List.of(), leaseId, 0, 0, null, null);
    }

    static WriteCmd tick() {
        return new WriteCmd(Type.TICK, List.of(), 0, 0, 0, null, null);
    }

    static WriteCmd archived(long index) {
        return new WriteCmd(Type.ARCHIVED, List.of(), 0, 0, index, null, null);
    }

    static WriteCmd replay(Replayed entry) {
        return new WriteCmd(Type.REPLAY, List.of(), 0, 0, 0, entry, null);
    }

    static WriteCmd regionRole(RegionState.Role role, long epoch, String primary) {
        return new WriteCmd(Type.REGION_ROLE, List.of(), 0, 0, 0, null,
                new RegionState(role, epoch, primary, null, null, 0, 0, 0, 0, null));
    }

    /** One entry of the source cluster as its journal kept it (see {@link JournalEntry}). */
    record Replayed(String cluster, long term, long index, long revision, long time, byte[] logData) {
        static Replayed of(String cluster, JournalEntry e) {
            return new Replayed(cluster, e.term(), e.index(), e.revision(), e.time(), e.logData());
        }
    }

    long approximateBytes() {
        long bytes = 32 + (replayed == null ? 0 : replayed.logData().length + 64);
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
