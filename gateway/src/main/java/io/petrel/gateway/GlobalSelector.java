package io.petrel.gateway;

import java.net.InetAddress;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Which region the global name answers with: a pure function of what the gateways know of every
 * region now and of the answer given last.
 * <ol>
 *   <li>among the regions whose DR view is PRIMARY (or SOLO) and writable, the highest epoch;</li>
 *   <li>else, none being writable (a primary that lost its lease, a standby still promoting), the
 *       PRIMARY, SOLO or PROMOTING one of highest epoch: the region about to take writes;</li>
 *   <li>else the last answer, unchanged: once it gave an answer the name never goes empty, since a
 *       stale address is better for a client than none while every region is in between.</li>
 * </ol>
 * A region counts only with a DR view and at least one live gateway to hand out. Equal epochs (two
 * primaries, which the epoch quorum should never allow) keep the last answer's region if it is one
 * of them, else the first in name order, so that the answer does not flap between them.
 */
final class GlobalSelector {
    /** One region as the gateways see it now: its DR view (empty when unknown) and the API hosts of its live gateways. */
    record Region(String name, Optional<DrView> dr, List<InetAddress> hosts) {
        Region {
            requireNonNull(name, "name");
            requireNonNull(dr, "dr");
            hosts = List.copyOf(hosts);
        }
    }

    /** The global name's answer: the region, the epoch it was chosen at, and the hosts to hand out. */
    record Answer(String region, long epoch, List<InetAddress> hosts) {
        Answer {
            requireNonNull(region, "region");
            hosts = List.copyOf(hosts);
            if (hosts.isEmpty()) {
                throw new IllegalArgumentException("an answer needs at least one host");
            }
        }
    }

    private GlobalSelector() {
    }

    static Optional<Answer> select(List<Region> regions, Optional<Answer> last) {
        List<Region> known = regions.stream().filter(r -> r.dr().isPresent() && !r.hosts().isEmpty()).toList();
        Optional<Region> chosen = best(known, r -> r.dr().get().role().primaryLike() && r.dr().get().writable(), last);
        if (chosen.isEmpty()) {
            chosen = best(known, r -> r.dr().get().role().primaryLike() || r.dr().get().role() == DrRole.PROMOTING, last);
        }
        return chosen.map(r -> new Answer(r.name(), r.dr().get().epoch(), r.hosts())).or(() -> last);
    }

    private static Optional<Region> best(List<Region> known, Predicate<Region> eligible, Optional<Answer> last) {
        String lastRegion = last.map(Answer::region).orElse(null);
        return known.stream().filter(eligible).max(Comparator.<Region>comparingLong(r -> r.dr().get().epoch())
                .thenComparing(r -> r.name().equals(lastRegion))
                .thenComparing(Region::name, Comparator.reverseOrder()));
    }
}
