package io.petrel.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The contract every {@link Store} backend must keep. A backend's test extends this class and hands
 * it a store; each test uses its own key prefix, so one store can serve the whole class.
 */
public abstract class StoreContract {

    /** A store that lives for the whole test class. */
    protected abstract Store store();

    /** A store handle that can watch (a replica in this process). */
    protected Store watchableStore() {
        return store();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String p(String test) {
        return "contract/" + test + "/" + System.nanoTime() + "/";
    }

    @Test
    void putThenGetReturnsTheValueWithItsRevisions() {
        String k = p("put") + "k";
        long r1 = store().put(k, b("one"), Expect.any());
        KeyValue kv = store().get(k).orElseThrow();
        assertThat(kv.valueAsString()).isEqualTo("one");
        assertThat(kv.createRevision()).isEqualTo(r1);
        assertThat(kv.modRevision()).isEqualTo(r1);
        assertThat(kv.version()).isEqualTo(1);

        long r2 = store().put(k, b("two"), Expect.any());
        assertThat(r2).isGreaterThan(r1);
        KeyValue kv2 = store().get(k).orElseThrow();
        assertThat(kv2.createRevision()).isEqualTo(r1);
        assertThat(kv2.modRevision()).isEqualTo(r2);
        assertThat(kv2.version()).isEqualTo(2);
        assertThat(store().revision()).isGreaterThanOrEqualTo(r2);
    }

    @Test
    void getOfAMissingKeyIsEmpty() {
        assertThat(store().get(p("missing") + "nothing")).isEmpty();
    }

    @Test
    void createOnlyRefusesAnExistingKey() {
        String k = p("create") + "k";
        long r = store().put(k, b("first"), Expect.absent());
        assertThatThrownBy(() -> store().put(k, b("second"), Expect.absent()))
                .isInstanceOf(ConflictException.class)
                .hasMessageContaining(k)
                .satisfies(e -> assertThat(((ConflictException) e).actualRevision()).isEqualTo(r));
        assertThat(store().get(k).orElseThrow().valueAsString()).isEqualTo("first");
    }

    @Test
    void updateAtRevisionSucceedsOnlyAtThatRevision() {
        String k = p("cas") + "k";
        long r1 = store().put(k, b("v1"), Expect.absent());
        long r2 = store().put(k, b("v2"), Expect.revision(r1));
        assertThatThrownBy(() -> store().put(k, b("v3"), Expect.revision(r1))).isInstanceOf(ConflictException.class);
        assertThatThrownBy(() -> store().put(p("cas") + "absent", b("v"), Expect.revision(r1))).isInstanceOf(ConflictException.class);
        KeyValue kv = store().get(k).orElseThrow();
        assertThat(kv.valueAsString()).isEqualTo("v2");
        assertThat(kv.modRevision()).isEqualTo(r2);
    }

    @Test
    void deleteAtRevision() {
        String k = p("delete") + "k";
        long r1 = store().put(k, b("v"), Expect.any());
        assertThatThrownBy(() -> store().delete(k, Expect.revision(r1 + 1000))).isInstanceOf(ConflictException.class);
        assertThat(store().get(k)).isPresent();
        assertThat(store().delete(k, Expect.revision(r1))).isTrue();
        assertThat(store().get(k)).isEmpty();
        assertThat(store().delete(k, Expect.any())).isFalse();
        // A re-created key starts a new history.
        long r2 = store().put(k, b("again"), Expect.absent());
        assertThat(store().get(k).orElseThrow().createRevision()).isEqualTo(r2);
        assertThat(store().get(k).orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void scanPagesThroughAPrefixInKeyOrder() {
        String prefix = p("scan");
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            keys.add(prefix + String.format("%03d", i));
        }
        List<String> shuffled = new ArrayList<>(keys);
        Collections.shuffle(shuffled);
        for (String k : shuffled) {
            store().put(k, b(k), Expect.any());
        }
        store().put(prefix.substring(0, prefix.length() - 1) + "x", b("outside"), Expect.any());

        List<String> seen = new ArrayList<>();
        ScanRequest req = ScanRequest.prefix(prefix, 10);
        int pages = 0;
        while (true) {
            ScanPage page = store().scan(req);
            pages++;
            page.items().forEach(kv -> seen.add(kv.key()));
            assertThat(page.items().size()).isLessThanOrEqualTo(10);
            if (!page.more()) {
                break;
            }
            req = req.next(page);
        }
        assertThat(seen).containsExactlyElementsOf(keys);
        assertThat(pages).isEqualTo(3);
    }

    @Test
    void aTransactionAppliesAllOrNothing() {
        String prefix = p("txn");
        long r0 = store().put(prefix + "a", b("a0"), Expect.any());
        long r = store().commit(List.of(
                new Op.Put(prefix + "a", b("a1"), Expect.revision(r0)),
                new Op.Put(prefix + "b", b("b1"), Expect.absent()),
                new Op.Delete(prefix + "none", Expect.any())));
        assertThat(store().get(prefix + "a").orElseThrow().modRevision()).isEqualTo(r);
        assertThat(store().get(prefix + "b").orElseThrow().modRevision()).isEqualTo(r);

        assertThatThrownBy(() -> store().commit(List.of(
                new Op.Put(prefix + "c", b("c"), Expect.absent()),
                new Op.Put(prefix + "b", b("b2"), Expect.absent()))))
                .isInstanceOf(ConflictException.class)
                .hasMessageContaining(prefix + "b");
        assertThat(store().get(prefix + "c")).isEmpty();
        assertThat(store().get(prefix + "b").orElseThrow().valueAsString()).isEqualTo("b1");
    }

    @Test
    void badInputGetsAClearErrorAndChangesNothing() {
        String prefix = p("bad");
        long before = store().revision();
        assertThatThrownBy(() -> store().put("", b("v"), Expect.any())).isInstanceOf(InvalidRequestException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> store().put("x".repeat(5000), b("v"), Expect.any())).isInstanceOf(InvalidRequestException.class).hasMessageContaining("limit");
        assertThatThrownBy(() -> store().put(prefix + "big", new byte[StoreLimits.DEFAULT.maxValueBytes() + 1], Expect.any()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("limit");
        assertThatThrownBy(() -> store().commit(List.of())).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> store().commit(List.of(new Op.Put(prefix + "d", b("1"), Expect.any()), new Op.Put(prefix + "d", b("2"), Expect.any()))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("twice");
        assertThatThrownBy(() -> Expect.revision(0)).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> store().scan(new ScanRequest(prefix, "", 0, ReadConsistency.LINEARIZABLE))).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> store().scan(new ScanRequest(prefix, "", 1_000_000, ReadConsistency.LINEARIZABLE))).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> store().put(prefix + "lease", b("v"), Expect.any(), 987654321L)).isInstanceOf(LeaseNotFoundException.class);
        assertThat(store().revision()).isEqualTo(before);
        assertThat(store().scan(ScanRequest.prefix(prefix, 10)).items()).isEmpty();
    }

    @Test
    void aValueAtTheSizeLimitIsStoredWhole() {
        String k = p("large") + "k";
        byte[] value = new byte[StoreLimits.DEFAULT.maxValueBytes()];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) (i * 31);
        }
        store().put(k, value, Expect.absent());
        assertThat(store().get(k).orElseThrow().value()).isEqualTo(value);
    }

    @Test
    void localReadsSayHowStaleTheyMayBe() {
        String k = p("local") + "k";
        store().put(k, b("v"), Expect.any());
        Read<Optional<KeyValue>> lin = store().get(k, ReadConsistency.LINEARIZABLE);
        assertThat(lin.linearizable()).isTrue();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Read<Optional<KeyValue>> local = store().get(k, ReadConsistency.LOCAL);
            assertThat(local.staleness()).isNotNull();
            assertThat(local.value()).isPresent();
        });
        ScanPage page = store().scan(new ScanRequest(p("local"), "", 10, ReadConsistency.LOCAL));
        assertThat(page.staleness()).isNotNull();
    }

    @Test
    void revokingALeaseDeletesItsKeys() {
        String prefix = p("revoke");
        Lease lease = store().grantLease(Duration.ofSeconds(60));
        store().put(prefix + "a", b("a"), Expect.any(), lease.id());
        store().put(prefix + "b", b("b"), Expect.any(), lease.id());
        store().put(prefix + "c", b("c"), Expect.any());
        assertThat(store().get(prefix + "a").orElseThrow().leaseId()).isEqualTo(lease.id());
        assertThat(store().revokeLease(lease.id())).isTrue();
        assertThat(store().get(prefix + "a")).isEmpty();
        assertThat(store().get(prefix + "b")).isEmpty();
        assertThat(store().get(prefix + "c")).isPresent();
        assertThat(store().revokeLease(lease.id())).isFalse();
        assertThatThrownBy(() -> store().keepAlive(lease.id())).isInstanceOf(LeaseNotFoundException.class);
    }

    @Test
    void aLeaseThatIsNotRenewedExpiresAndOneThatIsRenewedDoesNot() {
        String prefix = p("expire");
        Lease short1 = store().grantLease(Duration.ofMillis(1500));
        Lease kept = store().grantLease(Duration.ofMillis(1500));
        store().put(prefix + "gone", b("x"), Expect.any(), short1.id());
        store().put(prefix + "kept", b("y"), Expect.any(), kept.id());
        long start = System.nanoTime();
        while (store().get(prefix + "gone").isPresent()) {
            store().keepAlive(kept.id());
            assertThat(System.nanoTime() - start).as("lease expiry").isLessThan(TimeUnit.SECONDS.toNanos(20));
            sleep(200);
        }
        System.out.printf("lease of 1500 ms expired after %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(1000);
        assertThat(store().get(prefix + "kept")).isPresent();
        store().revokeLease(kept.id());
    }

    @Test
    void watchersSeeEveryChangeInRevisionOrder() throws Exception {
        String prefix = p("watch");
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        try (Watch w = watchableStore().watch(prefix, events::add)) {
            long r1 = store().put(prefix + "a", b("1"), Expect.any());
            long r2 = store().put(prefix + "a", b("2"), Expect.any());
            store().put(p("other") + "x", b("not mine"), Expect.any());
            long r3 = store().commit(List.of(new Op.Delete(prefix + "a", Expect.any())));
            Lease lease = store().grantLease(Duration.ofSeconds(30));
            store().put(prefix + "l", b("leased"), Expect.any(), lease.id());
            store().revokeLease(lease.id());

            List<WatchEvent> got = new ArrayList<>();
            while (got.size() < 5) {
                WatchEvent e = events.poll(10, TimeUnit.SECONDS);
                assertThat(e).as("event %d", got.size() + 1).isNotNull();
                got.add(e);
            }
            assertThat(got.get(0).type()).isEqualTo(WatchEvent.Type.PUT);
            assertThat(got.get(0).revision()).isEqualTo(r1);
            assertThat(got.get(1).kv().valueAsString()).isEqualTo("2");
            assertThat(got.get(1).revision()).isEqualTo(r2);
            assertThat(got.get(2).type()).isEqualTo(WatchEvent.Type.DELETE);
            assertThat(got.get(2).revision()).isEqualTo(r3);
            assertThat(got.get(4).type()).isEqualTo(WatchEvent.Type.DELETE);
            assertThat(got.get(4).cause()).isEqualTo(WatchEvent.Cause.LEASE_REVOKED);
            assertThat(got).extracting(WatchEvent::revision).isSorted();
            assertThat(got).allSatisfy(e -> assertThat(e.kv().key()).startsWith(prefix));
        }
    }

    @Test
    void concurrentWritersAllLand() throws Exception {
        String prefix = p("concurrent");
        int writers = 16;
        int each = 50;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int id = w;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        store().put(prefix + id + "/" + i, b(id + ":" + i), Expect.absent());
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        int count = 0;
        ScanRequest req = ScanRequest.prefix(prefix, 1000);
        ScanPage page = store().scan(req);
        count += page.items().size();
        assertThat(page.items()).allSatisfy(kv -> assertThat(kv.version()).isEqualTo(1));
        assertThat(count).isEqualTo(writers * each);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
