package io.petrel.dr;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * How a zone takes part in disaster recovery ({@code dr.*} keys). The region's backup target is the
 * third member of the quorum (the witness): the primary and the standby must share it, and it must sit
 * outside both.
 *
 * @param lease          how long one acknowledgement of the primary's epoch lets it take writes
 * @param renewEvery     how often every zone of a primary asks for acknowledgements
 * @param failoverAfter  how long the primary must be unreachable (its API and its heartbeats) before a standby promotes itself
 * @param manualFailover a standby never promotes itself; only {@code petrel region promote|switchover} does
 * @param clockDrift     the most two zones' clocks may run apart in rate (0.1: 10%); a promotion waits out the lease scaled by it
 * @param pollEvery      how often a standby looks for new archive segments and probes the primary
 * @param peerHealth     the other region's zones' HTTP addresses ({@code host:port}): a standby probes its primary there
 * @param selfHttp       this region's zones' HTTP addresses, published so that the primary can ask this standby for acknowledgements
 */
public record DrConfig(Duration lease, Duration renewEvery, Duration failoverAfter, boolean manualFailover, double clockDrift,
                       Duration pollEvery, List<String> peerHealth, List<String> selfHttp) {

    public DrConfig {
        requireNonNull(lease, "lease");
        requireNonNull(renewEvery, "renewEvery");
        requireNonNull(failoverAfter, "failoverAfter");
        requireNonNull(pollEvery, "pollEvery");
        peerHealth = List.copyOf(peerHealth);
        selfHttp = List.copyOf(selfHttp);
        if (renewEvery.toMillis() < 50 || renewEvery.compareTo(lease.dividedBy(2)) > 0) {
            throw new IllegalArgumentException("dr.renew.ms must be at least 50 and at most half of dr.lease.ms (" + lease.toMillis() + ")");
        }
        if (failoverAfter.compareTo(lease) < 0) {
            throw new IllegalArgumentException("dr.failover.ms (" + failoverAfter.toMillis() + ") must not be shorter than dr.lease.ms ("
                    + lease.toMillis() + "): a primary must be able to notice it is cut off before a standby takes over");
        }
        if (clockDrift < 0 || clockDrift > 1) {
            throw new IllegalArgumentException("dr.clock.drift must be between 0 and 1, not " + clockDrift);
        }
    }

    /** How long a standby waits after claiming the new epoch: the old primary's lease, scaled for drift, plus one renewal. */
    public Duration fencingWait() {
        return Duration.ofMillis((long) Math.ceil(lease.toMillis() * (1 + clockDrift)) + renewEvery.toMillis());
    }

    /** Reads {@code dr.*}; empty unless {@code dr.enabled=true}. */
    public static java.util.Optional<DrConfig> fromProperties(Properties p) {
        if (!Boolean.parseBoolean(p.getProperty("dr.enabled", "false").trim())) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new DrConfig(
                Duration.ofMillis(longOf(p, "dr.lease.ms", 3000)),
                Duration.ofMillis(longOf(p, "dr.renew.ms", 500)),
                Duration.ofMillis(longOf(p, "dr.failover.ms", 60_000)),
                Boolean.parseBoolean(p.getProperty("dr.manual.failover", "false").trim()),
                Double.parseDouble(p.getProperty("dr.clock.drift", "0.1").trim()),
                Duration.ofMillis(longOf(p, "dr.poll.ms", 250)),
                list(p.getProperty("dr.peer.health", "")),
                list(p.getProperty("dr.self.http", ""))));
    }

    private static long longOf(Properties p, String key, long fallback) {
        String v = p.getProperty(key, "").trim();
        try {
            return v.isEmpty() ? fallback : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, not '" + v + "'");
        }
    }

    private static List<String> list(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
