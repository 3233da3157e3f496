package io.petrel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class DrViewTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void readsAZonesAnswer() throws Exception {
        assertThat(parse("{\"region\":\"east\",\"role\":\"PRIMARY\",\"epoch\":3,\"writable\":true,\"primary\":\"east\",\"lagEntries\":0}"))
                .hasValue(new DrView("east", DrRole.PRIMARY, 3, true, "east", 0));
        assertThat(parse("{\"role\":\"standby\",\"epoch\":3,\"writable\":false,\"primary\":\"east\",\"lagEntries\":12}"))
                .as("the region defaults to the gateway's own").hasValue(new DrView("here", DrRole.STANDBY, 3, false, "east", 12));
        assertThat(parse("{\"region\":\"east\",\"role\":\"SOLO\",\"epoch\":7}")).as("solo: a primary of epoch 0, writable unless it says not")
                .hasValue(new DrView("east", DrRole.SOLO, 0, true, null, 0));
    }

    @Test
    void answersWithoutAKnownRoleOrAnEpochContributeNothing() throws Exception {
        assertThat(parse("{\"region\":\"east\",\"role\":\"LEADER\",\"epoch\":3,\"writable\":true}")).isEmpty();
        assertThat(parse("{\"region\":\"east\",\"role\":\"PRIMARY\",\"writable\":true}")).isEmpty();
        assertThat(parse("{\"region\":\"east\",\"epoch\":3}")).isEmpty();
        assertThat(parse("[1,2]")).isEmpty();
        assertThat(DrView.fromJson(json.nullNode(), "here")).isEmpty();
    }

    @Test
    void theRegionsViewIsTheHighestEpochWritableIfAnyZoneOfThatEpochSaysSo() {
        DrView fenced = new DrView("east", DrRole.PRIMARY, 3, false, "east", 0);
        DrView leased = new DrView("east", DrRole.PRIMARY, 3, true, "east", 0);
        DrView old = new DrView("east", DrRole.PRIMARY, 2, true, "east", 0);
        assertThat(DrView.combine(List.of(fenced, old))).hasValue(fenced);
        assertThat(DrView.combine(List.of(fenced, leased, old))).hasValue(leased);
        DrView promoting = new DrView("west", DrRole.PROMOTING, 4, false, "east", 0);
        DrView primary = new DrView("west", DrRole.PRIMARY, 4, true, "west", 0);
        DrView standby = new DrView("west", DrRole.STANDBY, 3, false, "east", 5);
        assertThat(DrView.combine(List.of(standby, promoting))).hasValue(promoting);
        assertThat(DrView.combine(List.of(standby, promoting, primary))).hasValue(primary);
        assertThat(DrView.combine(List.of())).isEmpty();
    }

    private Optional<DrView> parse(String s) throws Exception {
        return DrView.fromJson(json.readTree(s), "here");
    }
}
