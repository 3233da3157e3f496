package io.petrel.store.ratis;

import io.petrel.store.Store;
import io.petrel.store.StoreContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.time.Duration;

import static org.awaitility.Awaitility.await;

/** The store contract through a remote client (no replica in its process; watches go to a zone). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RemoteClientContractTest extends StoreContract {
    private Path dir;
    private InProcessGroup group;
    private RatisStore client;

    @BeforeAll
    void startGroup() throws Exception {
        dir = java.nio.file.Files.createTempDirectory("petrel-store-test");
        group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0));
        client = group.client();
        await().atMost(Duration.ofSeconds(30)).until(() -> group.replica(0).ready(Duration.ofSeconds(2)));
    }

    @AfterAll
    void stopGroup() throws Exception {
        if (client != null) {
            client.close();
        }
        if (group != null) {
            group.close();
        }
        CheckpointSnapshots.deleteRecursively(dir);
    }

    @Override
    protected Store store() {
        return client;
    }

    @Override
    protected Store watchableStore() {
        return group.replica(2).store();
    }
}
