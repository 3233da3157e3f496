package io.petrel.store.ratis;

import io.petrel.store.Store;
import io.petrel.store.StoreContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.time.Duration;

import static org.awaitility.Awaitility.await;

/** The store contract on three real Ratis voters with RocksDB, through a zone's own handle. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RatisStoreContractTest extends StoreContract {
    private Path dir;
    private InProcessGroup group;

    @BeforeAll
    void startGroup() throws Exception {
        dir = java.nio.file.Files.createTempDirectory("petrel-store-test");
        group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0));
        await().atMost(Duration.ofSeconds(30)).until(() -> group.replica(1).ready(Duration.ofSeconds(2)));
    }

    @AfterAll
    void stopGroup() throws Exception {
        if (group != null) {
            group.close();
        }
        CheckpointSnapshots.deleteRecursively(dir);
    }

    @Override
    protected Store store() {
        return group.replica(1).store();
    }
}
