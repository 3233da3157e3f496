package io.petrel.store.ratis;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * What disaster recovery may read and change in a zone's replicated store: the region's role
 * ({@link RegionState}), and, on a standby, applying the entries of the cluster it follows. Every
 * change goes through consensus, so the region's zones agree on it at every log position.
 */
public interface RegionControl {
    String region();

    String clusterId();

    String zone();

    /** Whether this zone leads its store (and may drive the region's role). */
    boolean leads();

    long currentTerm();

    /** The last log index this zone applied. */
    long appliedIndex();

    /** The role as of this zone's applied index (may lag the leader by a moment). */
    RegionState applied();

    /** The role, read linearizably: what every zone will have applied once it catches up. */
    RegionState current();

    /**
     * Applies {@code entries} of {@code sourceCluster} in order. Entries already applied are skipped;
     * the first one refused (a gap, another cluster, a region that is no standby) stops the rest.
     */
    Replayed replay(String sourceCluster, List<JournalEntry> entries, Duration timeout) throws IOException;

    /** Changes the region's role; throws, saying why, if the change is not allowed from the role it has. */
    void changeRole(RegionState.Role role, long epoch, String primary, Duration timeout) throws IOException;

    /** How many entries were taken (applied now or before), and why the next one was refused, if one was. */
    record Replayed(int taken, String refusal) {
        public boolean complete() {
            return refusal == null;
        }
    }
}
