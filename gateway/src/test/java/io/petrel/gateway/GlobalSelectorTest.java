package io.petrel.gateway;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The rule that picks the global name's region, over hand-made views of the regions. */
class GlobalSelectorTest {
    private static final List<InetAddress> EAST = hosts("127.1.0.11", "127.1.0.12");
    private static final List<InetAddress> WEST = hosts("127.2.0.11", "127.2.0.12");

    @Test
    void theWritablePrimaryOfHighestEpochWins() {
        List<GlobalSelector.Region> regions = List.of(region("east", DrRole.PRIMARY, 3, true, EAST),
                region("west", DrRole.PRIMARY, 4, true, WEST), region("north", DrRole.STANDBY, 9, false, hosts("127.3.0.11")));
        assertThat(GlobalSelector.select(regions, Optional.empty())).hasValue(new GlobalSelector.Answer("west", 4, WEST));
    }

    @Test
    void aWritablePrimaryBeatsAPromotingRegionOfHigherEpoch() {
        // The standby has started to take over but does not take writes yet: the old primary still does.
        List<GlobalSelector.Region> regions = List.of(region("east", DrRole.PRIMARY, 3, true, EAST),
                region("west", DrRole.PROMOTING, 4, false, WEST));
        assertThat(GlobalSelector.select(regions, Optional.empty()).map(GlobalSelector.Answer::region)).hasValue("east");
    }

    @Test
    void aSoloRegionCountsAsAPrimaryOfEpochZero() {
        assertThat(GlobalSelector.select(List.of(region("east", DrRole.SOLO, 0, true, EAST)), Optional.empty()))
                .hasValue(new GlobalSelector.Answer("east", 0, EAST));
        assertThat(GlobalSelector.select(List.of(region("east", DrRole.SOLO, 0, true, EAST), region("west", DrRole.PRIMARY, 1, true, WEST)),
                Optional.empty()).map(GlobalSelector.Answer::region)).hasValue("west");
    }

    @Test
    void withNoWritableRegionThePrimaryOrPromotingOneOfHighestEpochWins() {
        List<GlobalSelector.Region> regions = List.of(region("east", DrRole.PRIMARY, 3, false, EAST),
                region("west", DrRole.PROMOTING, 4, false, WEST), region("north", DrRole.STANDBY, 5, false, hosts("127.3.0.11")),
                region("south", DrRole.DEMOTED, 6, false, hosts("127.4.0.11")));
        assertThat(GlobalSelector.select(regions, Optional.empty()).map(GlobalSelector.Answer::region)).hasValue("west");
        // A writable standby or demoted region is no candidate either: the role decides, not the flag alone.
        assertThat(GlobalSelector.select(List.of(region("north", DrRole.STANDBY, 5, true, EAST)), Optional.empty())).isEmpty();
    }

    @Test
    void whenNoRegionIsKnownTheLastAnswerIsKeptAndNeverEmptied() {
        GlobalSelector.Answer last = new GlobalSelector.Answer("east", 3, EAST);
        assertThat(GlobalSelector.select(List.of(), Optional.of(last))).hasValue(last);
        // Known regions without a candidate (all standby or demoted), regions without a DR view or without a live gateway: the same.
        List<GlobalSelector.Region> nothingUsable = List.of(region("east", DrRole.DEMOTED, 4, false, EAST),
                region("west", DrRole.STANDBY, 4, false, WEST), new GlobalSelector.Region("north", Optional.empty(), hosts("127.3.0.11")),
                region("south", DrRole.PRIMARY, 9, true, List.of()));
        assertThat(GlobalSelector.select(nothingUsable, Optional.of(last))).hasValue(last);
        assertThat(GlobalSelector.select(nothingUsable, Optional.empty())).as("nothing to answer before a first choice").isEmpty();
    }

    @Test
    void theChosenRegionsLiveHostsAreFollowed() {
        GlobalSelector.Answer last = new GlobalSelector.Answer("east", 3, EAST);
        assertThat(GlobalSelector.select(List.of(region("east", DrRole.PRIMARY, 3, true, EAST.subList(1, 2))), Optional.of(last)))
                .hasValue(new GlobalSelector.Answer("east", 3, EAST.subList(1, 2)));
    }

    @Test
    void equalEpochsKeepTheLastRegionRatherThanFlap() {
        List<GlobalSelector.Region> two = List.of(region("east", DrRole.PRIMARY, 5, true, EAST), region("west", DrRole.PRIMARY, 5, true, WEST));
        assertThat(GlobalSelector.select(two, Optional.of(new GlobalSelector.Answer("west", 4, WEST))).map(GlobalSelector.Answer::region))
                .hasValue("west");
        assertThat(GlobalSelector.select(two, Optional.empty()).map(GlobalSelector.Answer::region)).as("else name order").hasValue("east");
    }

    private static GlobalSelector.Region region(String name, DrRole role, long epoch, boolean writable, List<InetAddress> hosts) {
        return new GlobalSelector.Region(name, Optional.of(new DrView(name, role, epoch, writable, null, 0)), hosts);
    }

    private static List<InetAddress> hosts(String... ips) {
        return Arrays.stream(ips).map(ip -> {
            try {
                return InetAddress.getByName(ip);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(e);
            }
        }).toList();
    }
}
