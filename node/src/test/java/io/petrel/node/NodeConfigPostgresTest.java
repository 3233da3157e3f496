package io.petrel.node;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Selecting the PostgreSQL store in a zone's configuration, and what it refuses with it. */
class NodeConfigPostgresTest {

    private static Properties base() {
        Properties p = new Properties();
        p.setProperty("region", "r");
        p.setProperty("zone", "a");
        p.setProperty("data", "/tmp/petrel-node-config-test");
        p.setProperty("http", "127.0.0.1:0");
        p.setProperty("api", "127.0.0.1:0");
        return p;
    }

    @Test
    void postgresNeedsItsUrlAndNoPeers() {
        Properties p = base();
        p.setProperty("store.backend", "postgres");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p, Map.of())).hasMessageContaining("store.postgres.url");
        p.setProperty("store.postgres.url", "jdbc:postgresql://127.0.0.1:5432,127.0.0.1:5433/petrel");
        p.setProperty("store.postgres.user", "petrel");
        p.setProperty("store.postgres.password.env", "PETREL_PG_PASSWORD");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p, Map.of())).hasMessageContaining("PETREL_PG_PASSWORD");

        NodeConfig c = NodeConfig.fromProperties(p, Map.of("PETREL_PG_PASSWORD", "secret"));
        assertThat(c.onPostgres()).isTrue();
        assertThat(c.peers()).isEmpty();
        assertThat(c.postgres().orElseThrow().password()).contains("secret");
        assertThat(c.toString()).doesNotContain("secret");
        assertThatThrownBy(c::replica).hasMessageContaining("PostgreSQL");
    }

    @Test
    void petrelsOwnBackupsAndStandbyRegionsAreRefusedOnPostgres() {
        Properties p = base();
        p.setProperty("store.backend", "postgres");
        p.setProperty("store.postgres.url", "jdbc:postgresql://127.0.0.1:5432/petrel");
        p.setProperty("store.postgres.user", "petrel");
        p.setProperty("backup.target", "/tmp/petrel-backups");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p, Map.of())).hasMessageContaining("WAL archiving").hasMessageContaining("backup.target");
        p.setProperty("backup.target", "none");
        p.setProperty("dr.enabled", "true");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p, Map.of())).hasMessageContaining("dr.*");
    }

    @Test
    void anUnknownBackendIsNamed() {
        Properties p = base();
        p.setProperty("peers", "a=127.0.0.1:7100");
        p.setProperty("store.backend", "etcd");
        assertThatThrownBy(() -> NodeConfig.fromProperties(p, Map.of())).hasMessageContaining("raft or postgres").hasMessageContaining("etcd");
        p.setProperty("store.backend", "raft");
        assertThat(NodeConfig.fromProperties(p, Map.of()).onPostgres()).isFalse();
    }
}
