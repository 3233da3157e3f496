package io.petrel.dr;

/**
 * One zone's view of disaster recovery, as {@code /admin/v1/dr} shows it.
 *
 * @param writable        whether this zone takes client writes now (role and fencing lease)
 * @param leaseRemainingMs how long this zone's fencing lease still holds (primaries)
 * @param lagEntries      entries the primary applied that this standby has not (from the primary's heartbeat; bookkeeping
 *                        entries the primary archives only with its next write count too)
 * @param lagMillis       how far behind the primary this standby is in time: the primary's archive RPO at its last heartbeat,
 *                        plus, while archived entries wait to be applied here, how old the last one applied is
 * @param primarySeenMsAgo when the primary last answered a probe or wrote a heartbeat (standbys)
 * @param failoverInMs    when this standby promotes itself if the primary stays away (-1: never, manual or not a standby)
 * @param problem         the last thing that went wrong, for operators
 */
public record DrStatus(String region, String zone, boolean leads, String role, long epoch, String primary, boolean writable,
                       long leaseRemainingMs, String sourceCluster, long sourceIndex, long primaryArchivedIndex, long lagEntries,
                       long lagMillis, long primarySeenMsAgo, long failoverInMs, boolean manualFailover, boolean conditionalCreate,
                       String divergence, String problem) {
}
