package io.petrel.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code petrel up --store postgres ...}: the node settings it gives the zones, and what it refuses. */
class UpCommandStoreTest {

    private static UpCommand parse(String... args) {
        UpCommand up = new UpCommand();
        new CommandLine(up).parseArgs(args);
        return up;
    }

    @Test
    void postgresGivesTheZonesTheDatabaseAndNoBackupsOfTheirOwn() {
        Map<String, String> t = parse("--store", "postgres", "--postgres-url", "jdbc:postgresql://db1:5432,db2:5432/petrel",
                "--postgres-user", "app", "--postgres-password-file", "pg.password").storeTuning();
        assertThat(t).containsEntry("store.backend", "postgres")
                .containsEntry("store.postgres.url", "jdbc:postgresql://db1:5432,db2:5432/petrel")
                .containsEntry("store.postgres.user", "app")
                .containsEntry("store.postgres.password.file", Path.of("pg.password").toAbsolutePath().toString())
                .containsEntry("backup.target", "none");
        assertThat(parse().storeTuning()).isEmpty();
    }

    @Test
    void postgresRefusesWhatOnlyTheRaftStoreHas() {
        assertThatThrownBy(() -> parse("--store", "postgres").storeTuning()).hasMessageContaining("--postgres-url");
        assertThatThrownBy(() -> parse("--store", "postgres", "--postgres-url", "jdbc:postgresql://db/petrel", "--region", "eu").storeTuning())
                .hasMessageContaining("WAL archiving");
        assertThatThrownBy(() -> parse("--postgres-url", "jdbc:postgresql://db/petrel").storeTuning()).hasMessageContaining("--store postgres");
        assertThatThrownBy(() -> parse("--store", "etcd").storeTuning()).hasMessageContaining("raft or postgres");
    }
}
