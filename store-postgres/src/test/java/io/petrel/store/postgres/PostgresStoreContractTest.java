package io.petrel.store.postgres;

import io.petrel.store.Expect;
import io.petrel.store.Store;
import io.petrel.store.StoreContract;
import io.petrel.store.StoreException;
import io.petrel.store.WatchEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The whole store contract on a real PostgreSQL primary with a synchronous standby, and what is PostgreSQL's own. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresStoreContractTest extends StoreContract {
    private PostgresCluster cluster;
    private PostgresStore store;

    @BeforeAll
    void start() throws Exception {
        cluster = PostgresCluster.start(true);
        store = PostgresStore.open(cluster.config(), Duration.ofSeconds(30));
    }

    @AfterAll
    void stop() {
        if (store != null) {
            store.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected Store store() {
        return store;
    }

    @Test
    void concurrentWritersGetDenseRevisionsThatWatchersSeeInOrder() throws Exception {
        String prefix = "pg/dense/" + System.nanoTime() + "/";
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        List<Long> revisions = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (var w = store.watch(prefix, events::add)) {
            List<Future<List<Long>>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    List<Long> mine = new ArrayList<>();
                    for (int i = 0; i < 40; i++) {
                        mine.add(store.put(prefix + id + "/" + i, new byte[]{1}, Expect.absent()));
                    }
                    return mine;
                }));
            }
            for (Future<List<Long>> f : futures) {
                revisions.addAll(f.get(60, TimeUnit.SECONDS));
            }
            List<Long> seen = new ArrayList<>();
            while (seen.size() < revisions.size()) {
                WatchEvent e = events.poll(10, TimeUnit.SECONDS);
                assertThat(e).as("event %d of %d", seen.size() + 1, revisions.size()).isNotNull();
                seen.add(e.revision());
            }
            // Every acknowledged revision is delivered once, in order: revision order is commit order.
            assertThat(seen).isSorted().doesNotHaveDuplicates();
            assertThat(seen).containsExactlyInAnyOrderElementsOf(revisions);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentCompareAndSetOnOneKeyLetsOneWinEachRound() throws Exception {
        // Commits that meet in one transaction are still checked one after another: for each read revision
        // exactly one increment wins, the others conflict naming the winner's revision.
        String key = "pg/cas/" + System.nanoTime();
        store.put(key, "0".getBytes(StandardCharsets.UTF_8), Expect.absent());
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                futures.add(pool.submit(() -> {
                    int won = 0;
                    for (int i = 0; i < 30; i++) {
                        io.petrel.store.KeyValue kv = store.get(key).orElseThrow();
                        long next = Long.parseLong(kv.valueAsString()) + 1;
                        try {
                            store.put(key, Long.toString(next).getBytes(StandardCharsets.UTF_8), Expect.revision(kv.modRevision()));
                            won++;
                        } catch (io.petrel.store.ConflictException e) {
                            assertThat(e.actualRevision()).isGreaterThan(kv.modRevision());
                        }
                    }
                    return won;
                }));
            }
            int won = 0;
            for (Future<Integer> f : futures) {
                won += f.get(60, TimeUnit.SECONDS);
            }
            io.petrel.store.KeyValue kv = store.get(key).orElseThrow();
            assertThat(Long.parseLong(kv.valueAsString())).isEqualTo(won);
            assertThat(kv.version()).isEqualTo(won + 1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCreateAndADeleteOfTheSameKeyInOneBatchKeepTheirOrder() throws Exception {
        // Many threads create and delete the same few keys at once: whatever batches form, every key ends as
        // its last acknowledged change says and the watcher sees each change once, in order.
        String prefix = "pg/churn/" + System.nanoTime() + "/";
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (var w = store.watch(prefix, events::add)) {
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    long changes = 0;
                    for (int i = 0; i < 40; i++) {
                        String k = prefix + (i % 4);
                        if ((i + id) % 2 == 0) {
                            store.put(k, new byte[]{(byte) id}, Expect.any());
                            changes++;
                        } else if (store.delete(k, Expect.any())) {
                            changes++;
                        }
                    }
                    return changes;
                }));
            }
            long changes = 0;
            for (Future<Long> f : futures) {
                changes += f.get(60, TimeUnit.SECONDS);
            }
            List<WatchEvent> got = new ArrayList<>();
            while (got.size() < changes) {
                WatchEvent e = events.poll(10, TimeUnit.SECONDS);
                assertThat(e).as("event %d of %d", got.size() + 1, changes).isNotNull();
                got.add(e);
            }
            assertThat(got).extracting(WatchEvent::revision).isSorted().doesNotHaveDuplicates();
            for (int i = 0; i < 4; i++) {
                String k = prefix + i;
                WatchEvent last = got.stream().filter(e -> e.kv().key().equals(k)).reduce((a, b) -> b).orElse(null);
                var now = store.get(k);
                if (last == null || last.type() == WatchEvent.Type.DELETE) {
                    assertThat(now).as(k).isEmpty();
                } else {
                    assertThat(now).as(k).contains(last.kv());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void keysOrderByTheirUtf8Bytes() {
        String prefix = "pg/order/" + System.nanoTime() + "/";
        List<String> keys = List.of(prefix + "B", prefix + "a", prefix + "é", prefix + "z", prefix + "\u00ff", prefix + "\uD83D\uDE00");
        for (String k : keys) {
            store.put(k, k.getBytes(StandardCharsets.UTF_8), Expect.any());
        }
        List<String> sorted = new ArrayList<>(keys);
        sorted.sort((a, b) -> java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
        assertThat(store.scan(io.petrel.store.ScanRequest.prefix(prefix, 100)).items()).extracting(io.petrel.store.KeyValue::key)
                .containsExactlyElementsOf(sorted);
    }

    @Test
    void aDatabaseWithANewerSchemaIsRefusedWithAClearMessage() throws Exception {
        try (Connection c = cluster.connect(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE newer");
        }
        String url = cluster.url().replace("/postgres?", "/newer?");
        try {
            PostgresStore.open(PostgresConfig.of(url, PostgresCluster.USER, Optional.of(cluster.password())), Duration.ofSeconds(10)).close();
            try (Connection c = java.sql.DriverManager.getConnection(url, PostgresCluster.USER, cluster.password());
                 Statement st = c.createStatement()) {
                st.execute("INSERT INTO petrel_schema (version) VALUES (" + (Schema.VERSION + 1) + ")");
            }
            assertThatThrownBy(() -> PostgresStore.open(PostgresConfig.of(url, PostgresCluster.USER, Optional.of(cluster.password())),
                    Duration.ofSeconds(10)))
                    .isInstanceOf(SchemaTooNewException.class)
                    .hasMessageContaining("schema version " + (Schema.VERSION + 1))
                    .hasMessageContaining("newer than this Petrel knows (" + Schema.VERSION + ")");
        } finally {
            try (Connection c = cluster.connect(cluster.primary()); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE newer WITH (FORCE)");
            }
        }
    }

    @Test
    void aWatcherAheadOfTheDatabaseAfterItReconnectsReloadsAndMissesNothingNew() throws Exception {
        // As if a failover lost commits the watcher had seen: the database's revision goes back below what was
        // delivered. The watcher must be told to reload, then get the next changes although their revisions
        // are ones it saw before.
        try (Connection c = cluster.connect(cluster.primary()); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE behind");
        }
        String url = cluster.url().replace("/postgres?", "/behind?");
        try (PostgresStore s = PostgresStore.open(PostgresConfig.of(url, PostgresCluster.USER, Optional.of(cluster.password())),
                Duration.ofSeconds(10))) {
            LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
            try (var w = s.watch("k/", events::add)) {
                for (int i = 1; i <= 5; i++) {
                    s.put("k/" + i, new byte[]{(byte) i}, Expect.absent());
                }
                for (int i = 1; i <= 5; i++) {
                    assertThat(events.poll(10, TimeUnit.SECONDS)).as("event %d", i).isNotNull();
                }
                try (Connection c = java.sql.DriverManager.getConnection(url, PostgresCluster.USER, cluster.password());
                     Statement st = c.createStatement()) {
                    st.execute("DELETE FROM petrel_changes WHERE rev > 2");
                    st.execute("DELETE FROM petrel_kv WHERE mod_rev > 2");
                    st.execute("UPDATE petrel_meta SET revision = 2");
                    // Every other connection to it goes, the watcher's included: it reconnects.
                    st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'behind' AND pid <> pg_backend_pid()");
                }
                WatchEvent reset = events.poll(15, TimeUnit.SECONDS);
                assertThat(reset).isNotNull();
                assertThat(reset.type()).isEqualTo(WatchEvent.Type.RESET);
                assertThat(reset.revision()).isEqualTo(2);
                long rev = -1;
                for (int attempt = 0; attempt < 50 && rev < 0; attempt++) {
                    try {
                        rev = s.put("k/6", new byte[]{6}, Expect.absent());
                    } catch (io.petrel.store.NoQuorumException e) {
                        Thread.sleep(100);          // the pool's connections were cut too
                    }
                }
                assertThat(rev).isEqualTo(3);
                WatchEvent next = events.poll(10, TimeUnit.SECONDS);
                assertThat(next).isNotNull();
                assertThat(next.type()).isEqualTo(WatchEvent.Type.PUT);
                assertThat(next.kv().key()).isEqualTo("k/6");
                assertThat(next.revision()).isEqualTo(3);
            }
        } finally {
            try (Connection c = cluster.connect(cluster.primary()); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE behind WITH (FORCE)");
            }
        }
    }

    @Test
    void credentialsComeFromAFileOrTheEnvironmentAndAWrongOneIsNamed() throws Exception {
        Path file = Files.createTempFile("pg-password", ".txt");
        try {
            Files.writeString(file, cluster.password() + "\n");
            Properties p = new Properties();
            p.setProperty("store.postgres.url", cluster.url());
            p.setProperty("store.postgres.user", PostgresCluster.USER);
            p.setProperty("store.postgres.password.file", file.toString());
            try (PostgresStore s = PostgresStore.open(PostgresConfig.fromProperties(p, Map.of()), Duration.ofSeconds(10))) {
                assertThat(s.revision()).isEqualTo(store.revision());
            }
            p.remove("store.postgres.password.file");
            p.setProperty("store.postgres.password.env", "PG_PW");
            PostgresConfig fromEnv = PostgresConfig.fromProperties(p, Map.of("PG_PW", cluster.password()));
            assertThat(fromEnv.toString()).doesNotContain(cluster.password());
            try (PostgresStore s = PostgresStore.open(fromEnv, Duration.ofSeconds(10))) {
                assertThat(s.ping()).isTrue();
            }
            assertThatThrownBy(() -> PostgresConfig.fromProperties(p, Map.of())).hasMessageContaining("PG_PW");
            assertThatThrownBy(() -> PostgresStore.open(PostgresConfig.fromProperties(p, Map.of("PG_PW", "wrong")), Duration.ofSeconds(5)))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("127.0.0.1:" + cluster.primary().port())
                    .hasMessageContaining("password authentication failed");
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
