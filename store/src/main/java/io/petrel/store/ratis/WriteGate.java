package io.petrel.store.ratis;

import java.util.Optional;

/**
 * Says whether this zone may accept its region's client writes now, beyond what the replicated state
 * says: disaster recovery's fencing lease (a primary that lost its witnesses' acknowledgement stops).
 * Asked by the leader before it orders a client write and by the zone that answers the client after the
 * write was applied, so that no write is acknowledged once the lease ran out.
 */
@FunctionalInterface
public interface WriteGate {
    WriteGate OPEN = region -> Optional.empty();

    /**
     * Why client writes are refused now, given the region's role as this zone applied it, or empty if they
     * are accepted. Must be cheap: asked on every write.
     */
    Optional<String> refusal(RegionState region);
}
