package io.petrel.gateway;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Zone-aware routing: the gateway's own zone first while it is routable and not holding more than
 * {@code spill.in.flight} requests, else the routable zone with the fewest requests in flight (ties
 * taken in turn). A retry prefers zones the request has not tried yet. When no zone is routable
 * (every probe failing, as during an election), the request still goes somewhere rather than
 * failing at the gateway: the zones decide.
 */
final class ZonePicker {
    private final List<ZoneState> zones;
    private final Optional<ZoneState> home;
    private final int spillInFlight;
    private final AtomicInteger turn = new AtomicInteger();

    ZonePicker(List<ZoneState> zones, Optional<String> homeZone, int spillInFlight) {
        this.zones = List.copyOf(zones);
        this.home = requireNonNull(homeZone, "homeZone").flatMap(h -> this.zones.stream().filter(z -> z.zone().equals(h)).findFirst());
        this.spillInFlight = spillInFlight;
    }

    ZoneState pick(Set<ZoneState> tried) {
        if (home.isPresent() && home.get().routable() && !tried.contains(home.get()) && home.get().inFlight() < spillInFlight) {
            return home.get();
        }
        return least(z -> z.routable() && !tried.contains(z))
                .or(() -> least(ZoneState::routable))
                .or(() -> least(z -> !tried.contains(z)))
                .orElseGet(() -> least(z -> true).orElseThrow());
    }

    private Optional<ZoneState> least(Predicate<ZoneState> allowed) {
        int n = zones.size();
        int start = Math.floorMod(turn.getAndIncrement(), n);
        ZoneState best = null;
        for (int i = 0; i < n; i++) {
            ZoneState z = zones.get((start + i) % n);
            if (allowed.test(z) && (best == null || z.inFlight() < best.inFlight())) {
                best = z;
            }
        }
        return Optional.ofNullable(best);
    }
}
