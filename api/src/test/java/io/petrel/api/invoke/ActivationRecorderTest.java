package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.petrel.api.activation.ActivationRecord;
import io.petrel.api.activation.ActivationStore;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The recorder on a real three-voter store: records of a lone caller's loop share commits, and none is lost. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ActivationRecorderTest {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private InProcessGroup group;
    private RatisStore store;
    private ActivationStore activations;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT.withDiskReserveBytes(0));
        store = group.client();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> store.revision() >= 0);
        activations = new ActivationStore(store, new ObjectMapper(), Duration.ofHours(1), System::currentTimeMillis, ns -> true);
    }

    @AfterAll
    void stop() throws Exception {
        store.close();
        group.close();
    }

    @Test
    void aLoneCallersRecordsShareCommitsAndAllArriveAfterAFlush() throws Exception {
        List<String> ids = new ArrayList<>();
        long before = store.revision();
        try (ActivationRecorder recorder = new ActivationRecorder("z", activations, Duration.ofMillis(300))) {
            for (int i = 0; i < 30; i++) {
                // One finished activation every 5 ms, slower than a commit here: without the linger, each
                // would find the writer idle and go in a commit of its own.
                ids.add(submit(recorder, "loop"));
                Thread.sleep(5);
            }
            assertThat(recorder.flush(10_000)).as("flushed").isTrue();
            assertThat(recorder.written()).isEqualTo(30);
        }
        long commits = store.revision() - before;
        System.out.printf("MEASURED 30 records submitted 5 ms apart took %d store commits (linger 300 ms)%n", commits);
        // The 30 records come within about 150 ms, well inside one linger.
        assertThat(commits).as("store commits for 30 records").isLessThanOrEqualTo(2);
        for (String id : ids) {
            assertThat(activations.get("loop", id)).as("record %s", id).isPresent();
        }
    }

    @Test
    void aBatchLargerThanOneCommitIsSplitAndEveryRecordArrives() throws Exception {
        // Twenty results of 900 KB: 18 MB, more than one commit may hold (8 MB).
        String big = "x".repeat(900 * 1024);
        List<String> ids = new ArrayList<>();
        try (ActivationRecorder recorder = new ActivationRecorder("z", activations, Duration.ofMillis(300))) {
            for (int i = 0; i < 20; i++) {
                ids.add(submit(recorder, "large", NODES.objectNode().put("payload", big)));
            }
            assertThat(recorder.flush(30_000)).as("flushed").isTrue();
        }
        for (String id : ids) {
            assertThat(activations.get("large", id)).as("record %s", id).isPresent()
                    .hasValueSatisfying(r -> assertThat(r.path("response").path("result").path("payload").asText()).hasSize(big.length()));
        }
    }

    @Test
    void withoutALingerEachRecordOfASlowLoopIsWrittenAtOnce() throws Exception {
        try (ActivationRecorder recorder = new ActivationRecorder("z", activations, Duration.ZERO)) {
            String id = submit(recorder, "zero");
            await().atMost(Duration.ofSeconds(5)).until(() -> activations.get("zero", id).isPresent());
        }
    }

    private static String submit(ActivationRecorder recorder, String ns) {
        return submit(recorder, ns, NODES.objectNode().put("ok", true));
    }

    private static String submit(ActivationRecorder recorder, String ns, com.fasterxml.jackson.databind.JsonNode result) {
        String id = UUID.randomUUID().toString().replace("-", "");
        long now = System.currentTimeMillis();
        ActivationRecord record = new ActivationRecord(ns, "noop", "noop", ns, id, now, now + 1, "0.0.1", 0,
                result, NODES.arrayNode(), List.of(), Optional.empty());
        recorder.submit(new ActivationStore.Finished(record, 1024 * 1024, List.of()));
        return id;
    }
}
