package io.petrel.gateway;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatewayConfigTest {

    @Test
    void readsTheGlobalNameAndTheRegionsGateways() {
        Properties p = base();
        p.setProperty("global.name", "API.global.petrel.internal.");
        p.setProperty("global.regions", "east=127.1.0.11:7190|127.1.0.12:7190, west=127.2.0.11:7190|127.2.0.12:7190");
        p.setProperty("global.interval.ms", "250");
        p.setProperty("dr.interval.ms", "300");
        GatewayConfig c = GatewayConfig.fromProperties(p);
        GatewayConfig.Global g = c.global().orElseThrow();
        assertThat(g.name()).isEqualTo("api.global.petrel.internal");
        assertThat(g.zone()).isEqualTo("global.petrel.internal");
        assertThat(g.regions()).containsOnlyKeys("east", "west");
        assertThat(g.regions().get("west")).containsExactly(new HostPort("127.2.0.11", 7190), new HostPort("127.2.0.12", 7190));
        assertThat(g.interval()).isEqualTo(Duration.ofMillis(250));
        assertThat(g.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.dr()).isEqualTo(new GatewayConfig.Dr(Duration.ofMillis(300), Duration.ofMillis(500)));
        assertThat(c.apiHost()).as("the listen address on the instance's own host, not the shared one").isEqualTo("127.1.0.11");
    }

    @Test
    void withoutGlobalKeysThereIsNoGlobalNameAndDrPollsEverySecond() {
        GatewayConfig c = GatewayConfig.fromProperties(base());
        assertThat(c.global()).isEmpty();
        assertThat(c.dr().interval()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void badGlobalSettingsAreRefusedWithTheKeyNamed() {
        Properties own = base();
        own.setProperty("global.name", "api.global.petrel.internal");
        own.setProperty("global.regions", "west=127.2.0.11:7190");
        assertThatThrownBy(() -> GatewayConfig.fromProperties(own)).hasMessageContaining("own region 'east'");
        Properties bad = base();
        bad.setProperty("global.name", "api.global.petrel.internal");
        bad.setProperty("global.regions", "east:127.1.0.11:7190");
        assertThatThrownBy(() -> GatewayConfig.fromProperties(bad)).hasMessageContaining("global.regions");
        Properties twice = base();
        twice.setProperty("global.name", "api.global.petrel.internal");
        twice.setProperty("global.regions", "east=127.1.0.11:7190,east=127.1.0.12:7190");
        assertThatThrownBy(() -> GatewayConfig.fromProperties(twice)).hasMessageContaining("twice");
        Properties orphan = base();
        orphan.setProperty("global.regions", "east=127.1.0.11:7190");
        assertThatThrownBy(() -> GatewayConfig.fromProperties(orphan)).hasMessageContaining("global.name");
        Properties oneLabel = base();
        oneLabel.setProperty("global.name", "api");
        oneLabel.setProperty("global.regions", "east=127.1.0.11:7190");
        assertThatThrownBy(() -> GatewayConfig.fromProperties(oneLabel)).hasMessageContaining("global.name");
    }

    @Test
    void aWildcardListenAddressIsNoApiHost() {
        Properties p = base();
        p.setProperty("listen", "0.0.0.0:3233");
        assertThat(GatewayConfig.fromProperties(p).apiHost()).isEqualTo("127.1.0.11");
        p.setProperty("listen", "10.0.0.5:3233");
        assertThat(GatewayConfig.fromProperties(p).apiHost()).isEqualTo("10.0.0.5");
    }

    private static Properties base() {
        Properties p = new Properties();
        p.setProperty("region", "east");
        p.setProperty("name", "g1");
        p.setProperty("listen", "127.1.0.1:3233,127.1.0.11:3233");
        p.setProperty("admin", "127.1.0.11:7190");
        p.setProperty("zones", "a=127.1.1.1:3233");
        return p;
    }
}
