package io.petrel.gateway;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ZonePickerTest {
    private final GatewayConfig.Health health = new GatewayConfig.Health(Duration.ofMillis(250), Duration.ofSeconds(1), 2, 1, 3,
            Duration.ofSeconds(5));
    private final GatewayMetrics metrics = new GatewayMetrics("g-test");
    private final ZoneState a = zone("a");
    private final ZoneState b = zone("b");
    private final ZoneState c = zone("c");

    private ZoneState zone(String name) {
        ZoneState z = new ZoneState(new ZoneTarget(name, new HostPort("127.0.0.1", 1), new HostPort("127.0.0.1", 2)), "g-test", health,
                System::nanoTime, metrics);
        z.probePassed();
        return z;
    }

    @Test
    void theHomeZoneFirstUntilItHoldsTooMuchThenTheLeastLoaded() {
        ZonePicker picker = new ZonePicker(List.of(a, b, c), Optional.of("b"), 2);
        assertThat(picker.pick(Set.of())).isSameAs(b);
        b.begin(null);
        b.begin(null);
        a.begin(null);
        assertThat(picker.pick(Set.of())).as("home holds spill.in.flight requests: the least loaded other").isSameAs(c);
    }

    @Test
    void withoutAHomeZoneTiesAreTakenInTurn() {
        ZonePicker picker = new ZonePicker(List.of(a, b, c), Optional.empty(), 32);
        Set<ZoneState> seen = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            seen.add(picker.pick(Set.of()));
        }
        assertThat(seen).containsExactlyInAnyOrder(a, b, c);
    }

    @Test
    void retriesPreferUntriedZonesAndDownZonesAreSkippedUnlessNothingElseIsLeft() {
        ZonePicker picker = new ZonePicker(List.of(a, b, c), Optional.of("a"), 32);
        assertThat(picker.pick(Set.of(a))).isIn(b, c);
        c.probeFailed("connection refused", ZoneState.ProbeFailure.REFUSED, () -> true);
        assertThat(picker.pick(Set.of(a))).isSameAs(b);
        assertThat(c.routable()).isFalse();
        b.requestFailed("connection refused", true);
        assertThat(b.ejected()).isTrue();
        assertThat(picker.pick(Set.of())).as("only a is routable").isSameAs(a);
        a.probeFailed("draining", ZoneState.ProbeFailure.DRAINING, () -> false);
        assertThat(picker.pick(Set.of())).as("nothing routable: still somewhere, the zones decide").isNotNull();
    }

    @Test
    void aZoneIsEjectedAfterConsecutiveFailuresAndItsWaitingAttemptsAreCut() {
        List<String> cut = new java.util.ArrayList<>();
        a.begin(cut::add);
        a.requestFailed("answered 500", false);
        a.requestFailed("answered 500", false);
        assertThat(a.routable()).isTrue();
        a.requestFailed("answered 500", false);
        assertThat(a.routable()).isFalse();
        assertThat(cut).singleElement().asString().contains("ejected");
    }

    @Test
    void aDrainingZoneLeavesTheRotationAtOnceButFinishesTheAttemptsItHolds() {
        List<String> cutOnA = new java.util.ArrayList<>();
        List<String> cutOnB = new java.util.ArrayList<>();
        a.begin(cutOnA::add);
        b.begin(cutOnB::add);
        a.probeFailed("ready probe answered 503 (draining)", ZoneState.ProbeFailure.DRAINING, () -> true);
        assertThat(a.routable()).as("a draining zone takes no new requests").isFalse();
        assertThat(cutOnA).as("a draining zone answers the requests it holds").isEmpty();
        b.probeFailed("ready probe: connection refused", ZoneState.ProbeFailure.REFUSED, () -> true);
        assertThat(b.routable()).isFalse();
        assertThat(cutOnB).as("a zone that refuses connections lost the requests it held").singleElement().asString().contains("down");
    }
}
