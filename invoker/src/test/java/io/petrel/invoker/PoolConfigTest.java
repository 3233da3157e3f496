package io.petrel.invoker;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PoolConfigTest {
    /** A machine with node 20 and python 3.11 but no java. */
    private static final Function<String, Optional<String>> KINDS = name -> Optional.ofNullable(Map.of(
            "nodejs:20", "nodejs:20", "nodejs:default", "nodejs:20",
            "python:3.11", "python:3.11", "python:3", "python:3.11", "python:default", "python:3.11").get(name));

    private static Properties props(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    @Test
    void defaultsPrewarmTheDefaultKindsTheMachineHas() {
        PoolConfig config = PoolConfig.defaults(KINDS);
        assertThat(config.memoryMb()).isEqualTo(2048);
        assertThat(config.prewarm()).containsExactly(Map.entry("nodejs:20", 1), Map.entry("python:3.11", 1));
        assertThat(config.prewarmMemoryMb()).isEqualTo(256);
        assertThat(config.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.maxColdStarts()).isEqualTo(2);
    }

    @Test
    void readsEveryKey() {
        PoolConfig config = PoolConfig.parse(props("invoker.memory.mb", "4096", "invoker.prewarm", " nodejs:default=2 , python:3=0",
                "invoker.prewarm.memory.mb", "128", "invoker.idle.seconds", "30", "invoker.cold.starts", "1"), KINDS);
        assertThat(config).isEqualTo(new PoolConfig(4096, Map.of("nodejs:20", 2), 128, Duration.ofSeconds(30), 1));
        assertThat(PoolConfig.parse(props("invoker.prewarm", ""), KINDS).prewarm()).isEmpty();
    }

    @Test
    void badValuesNameTheKey() {
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.memory.mb", "lots"), KINDS))
                .hasMessage("invoker.memory.mb must be a whole number, got 'lots'");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.memory.mb", "64"), KINDS))
                .hasMessage("invoker.memory.mb must be at least 128, got 64");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.idle.seconds", "0"), KINDS))
                .hasMessage("invoker.idle.seconds must be at least 1, got 0");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.cold.starts", "100"), KINDS))
                .hasMessage("invoker.cold.starts must be 1 to 64, got 100");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.prewarm", "nodejs:20"), KINDS))
                .hasMessageContaining("invoker.prewarm must be kind=count items").hasMessageContaining("'nodejs:20'");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.prewarm", "nodejs:20=-1"), KINDS))
                .hasMessage("invoker.prewarm count of nodejs:20 must be 0 to 64, got -1");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.prewarm", "java:21=1"), KINDS))
                .hasMessage("invoker.prewarm: this machine cannot run kind 'java:21'");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.prewarm", "nodejs:20=1,nodejs:default=1"), KINDS))
                .hasMessage("invoker.prewarm: kind nodejs:20 is given more than once");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.memory.mb", "512", "invoker.prewarm", "nodejs:20=2,python:3=1"), KINDS))
                .hasMessageContaining("needs 768 MB, more than the pool's 512 MB");
        assertThatThrownBy(() -> PoolConfig.parse(props("invoker.memory.mb", "512", "invoker.prewarm.memory.mb", "1024"), KINDS))
                .hasMessage("invoker.prewarm.memory.mb must be 128 to 512, got 1024");
    }
}
