package io.petrel.dr;

/**
 * One zone's view of disaster recovery, as {@code /admin/v1/dr} shows it.
 *
 * @param writable        whether this zone takes client writes now (role and fencing lease)
 * @param leaseRemainingMs how long this zone's fencing lease still holds (primaries)
 * @param lagEntries      entries the primary applied that this standby has not (from the primary's heartbeat)
 * @param lagMillis       how far the last entry applied here is behind the primary's newest heartbeat, in time
 * @param primarySeenMsAgo when the primary last answered a probe or wrote a heartbeat (standbys)
 * @param failoverInMs    when this standby promotes itself if the primary stays away (-1: never, manual or not a standby)
 * @param problem         the last thing that went wrong, for operators
 */
public record DrStatus(String region, String zone, boolean leads, String role, long epoch, String primary, boolean writable,
                       long leaseRemainingMs, String sourceCluster, long sourceIndex, long primaryArchivedIndex, long lagEntries,
                       long lagMillis, long primarySeenMsAgo, long failoverInMs, boolean manualFailover, boolean conditionalCreate,
                       String divergence, String problem) {
}
