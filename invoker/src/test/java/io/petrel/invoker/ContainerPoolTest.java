package io.petrel.invoker;

import io.petrel.api.invoke.RunRequest;
import io.petrel.container.ActionContainer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Pool accounting with in-memory containers: placement, budget, eviction, prewarm, slots, failures. */
class ContainerPoolTest {
    private static final Duration LONG_IDLE = Duration.ofMinutes(5);

    private final ScriptedStarter starter = new ScriptedStarter();
    private final List<ContainerPool> pools = new ArrayList<>();

    @AfterEach
    void closePools() {
        pools.forEach(ContainerPool::close);
    }

    private ContainerPool pool(int memoryMb, Map<String, Integer> prewarm, Duration idle, int coldStarts) {
        ContainerPool pool = new ContainerPool("z1", new PoolConfig(memoryMb, prewarm, 256, idle, coldStarts), starter);
        pools.add(pool);
        return pool;
    }

    private ContainerPool pool(int memoryMb) {
        return pool(memoryMb, Map.of(), LONG_IDLE, 2);
    }

    private static Lease acquire(ContainerPool pool, RunRequest request) {
        Optional<Lease> lease = pool.acquire(request);
        assertThat(lease).as("a lease for %s", request.actionName()).isPresent();
        return lease.get();
    }

    /** What the invoker does before running: open the container and init it when needed. */
    private static ActionContainer open(Lease lease) throws Exception {
        ActionContainer c = lease.container();
        if (lease.needsInit()) {
            lease.initialized(ScriptedContainer.ok(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()));
        }
        return c;
    }

    private static ActionContainer runOnce(ContainerPool pool, RunRequest request) throws Exception {
        Lease lease = acquire(pool, request);
        ActionContainer c = open(lease);
        lease.release(true);
        return c;
    }

    @Test
    void reusesTheWarmContainerOfTheSameAction() throws Exception {
        ContainerPool pool = pool(1024);
        Requests hello = Requests.nodejs("function main(a) { return a; }");

        Lease first = acquire(pool, hello.of("hello"));
        assertThat(first.start()).isEqualTo(StartKind.COLD);
        assertThat(first.needsInit()).isTrue();
        ActionContainer c1 = open(first);
        first.release(true);

        Lease second = acquire(pool, hello.of("hello"));
        assertThat(second.start()).isEqualTo(StartKind.WARM);
        assertThat(second.needsInit()).isFalse();
        assertThat(second.container()).isSameAs(c1);
        second.release(true);

        PoolStats stats = pool.stats();
        assertThat(stats.coldStarts()).isEqualTo(1);
        assertThat(stats.warmStarts()).isEqualTo(1);
        assertThat(stats.idle()).isEqualTo(1);
        assertThat(stats.memoryInUseMb()).isEqualTo(256);
        assertThat(starter.started).hasSize(1);
    }

    @Test
    void anythingTheContainerWasInitializedWithKeysReuse() throws Exception {
        ContainerPool pool = pool(2048);
        Requests base = Requests.nodejs("function main(a) { return a; }");
        ActionContainer original = runOnce(pool, base.of("a"));

        assertThat(runOnce(pool, base.revision(2).of("a"))).as("new revision").isNotSameAs(original);
        assertThat(runOnce(pool, base.code("function main() { return {}; }").of("a"))).as("other code").isNotSameAs(original);
        assertThat(runOnce(pool, base.memory(512).of("a"))).as("other memory").isNotSameAs(original);
        assertThat(runOnce(pool, base.initEnv(Map.of("K", "V")).of("a"))).as("other init parameters").isNotSameAs(original);
        assertThat(runOnce(pool, base.of("b"))).as("other action").isNotSameAs(original);
        assertThat(runOnce(pool, base.of("a"))).as("same again").isSameAs(original);
        assertThat(pool.stats().coldStarts()).isEqualTo(6);
    }

    @Test
    void aFullPoolAnswersEmptyAndEvictsIdleContainersLeastRecentlyUsedFirst() throws Exception {
        ContainerPool pool = pool(768);
        Requests r = Requests.nodejs("code");
        ActionContainer a = runOnce(pool, r.of("a"));
        ActionContainer b = runOnce(pool, r.of("b"));
        Lease busy = acquire(pool, r.of("c")); // held: not evictable
        open(busy);
        runOnce(pool, r.of("a")); // a is now more recently used than b

        Lease d = acquire(pool, r.of("d"));
        assertThat(d.start()).isEqualTo(StartKind.COLD);
        await().atMost(Duration.ofSeconds(5)).until(() -> ((ScriptedContainer) b).closed());
        assertThat(((ScriptedContainer) a).closed()).isFalse();
        open(d);

        // a idle, c and d busy: a fourth action of 512 MB cannot fit even by evicting a, so nothing is evicted.
        assertThat(pool.acquire(r.memory(512).of("e"))).isEmpty();
        assertThat(((ScriptedContainer) a).closed()).isFalse();

        PoolStats stats = pool.stats();
        assertThat(stats.evicted()).isEqualTo(1);
        assertThat(stats.rejected()).isEqualTo(1);
        assertThat(stats.memoryInUseMb()).isEqualTo(768);
        assertThat(stats.busy()).isEqualTo(2);
        assertThat(stats.idle()).isEqualTo(1);

        busy.release(true);
        d.release(true);
        assertThat(pool.acquire(r.memory(512).of("e"))).get().extracting(Lease::start).isEqualTo(StartKind.COLD);
        assertThat(pool.stats().evicted()).isEqualTo(3);
    }

    @Test
    void anActionLargerThanTheBudgetNeverFits() {
        ContainerPool pool = pool(256);
        assertThat(pool.acquire(Requests.nodejs("x").memory(512).of("big"))).isEmpty();
        assertThat(starter.started).isEmpty();
    }

    @Test
    void concurrencySlotsShareOneContainerAndTheSecondWaitsForTheFirstInit() throws Exception {
        ContainerPool pool = pool(1024);
        Requests r = Requests.nodejs("code").concurrency(2);
        Lease first = acquire(pool, r.of("c"));
        Lease second = acquire(pool, r.of("c"));
        Lease third = acquire(pool, r.of("c"));
        assertThat(first.start()).isEqualTo(StartKind.COLD);
        assertThat(second.start()).isEqualTo(StartKind.WARM);
        assertThat(third.start()).as("both slots of the first are taken").isEqualTo(StartKind.COLD);

        ActionContainer c = first.container();
        CompletableFuture<ActionContainer> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return second.container();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(100);
        assertThat(waiting).as("waits for the first init").isNotDone();
        first.initialized(ScriptedContainer.ok(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()));
        assertThat(waiting.get(5, TimeUnit.SECONDS)).isSameAs(c);
        assertThat(pool.stats().activations()).isEqualTo(3);

        first.release(true);
        second.release(true);
        third.release(false);
        PoolStats stats = pool.stats();
        assertThat(stats.idle()).isEqualTo(1);
        assertThat(stats.discarded()).isEqualTo(1);
        assertThat(stats.memoryInUseMb()).isEqualTo(256);
    }

    @Test
    void activationsWaitingForAFailedInitEndWithThatInit() throws Exception {
        ContainerPool pool = pool(1024);
        Requests r = Requests.nodejs("syntax error(").concurrency(3);
        Lease first = acquire(pool, r.of("bad"));
        Lease second = acquire(pool, r.of("bad"));
        ActionContainer c = first.container();
        first.initialized(ScriptedContainer.failure(2, "Initialization has failed due to: SyntaxError", false, true));

        assertThatThrownBy(second::container).isInstanceOfSatisfying(ContainerUnavailableException.class,
                e -> assertThat(e.initOutcome()).get().extracting(o -> o.result().get("error").asText())
                        .isEqualTo("Initialization has failed due to: SyntaxError"));
        // A third arrival does not join the failed container.
        Lease third = acquire(pool, r.of("bad"));
        assertThat(third.start()).isEqualTo(StartKind.COLD);

        first.release(false);
        second.release(false);
        third.release(false);
        await().atMost(Duration.ofSeconds(5)).until(() -> ((ScriptedContainer) c).closed());
        assertThat(pool.stats().memoryInUseMb()).isZero();
        assertThat(pool.stats().containers()).isZero();
    }

    @Test
    void aContainerThatIsNotUsableIsClosedAndItsMemoryReturned() throws Exception {
        ContainerPool pool = pool(1024);
        Requests r = Requests.nodejs("code");
        Lease lease = acquire(pool, r.of("a"));
        ScriptedContainer c = (ScriptedContainer) open(lease);
        c.breakIt(); // e.g. killed on timeout
        lease.release(true);
        await().atMost(Duration.ofSeconds(5)).until(c::closed);
        assertThat(pool.stats().memoryInUseMb()).isZero();
        assertThat(pool.stats().discarded()).isEqualTo(1);

        Lease next = acquire(pool, r.of("a"));
        assertThat(next.start()).as("a fresh container").isEqualTo(StartKind.COLD);
        assertThat(open(next)).isNotSameAs(c);
        next.release(false);
        await().atMost(Duration.ofSeconds(5)).until(() -> starter.last().closed());
        assertThat(pool.stats().discarded()).isEqualTo(2);
    }

    @Test
    void aContainerThatCannotStartFailsItsLeaseAndReturnsTheMemory() {
        ContainerPool pool = pool(1024);
        starter.failWith = new IOException("no such interpreter: node");
        Lease lease = acquire(pool, Requests.nodejs("x").of("a"));
        assertThatThrownBy(lease::container).isInstanceOf(ContainerUnavailableException.class)
                .hasMessage("no such interpreter: node");
        lease.release(false);
        assertThat(pool.stats().memoryInUseMb()).isZero();
        assertThat(pool.stats().containers()).isZero();
    }

    @Test
    void coldStartsInFlightAreBounded() throws Exception {
        ContainerPool pool = pool(2048, Map.of(), LONG_IDLE, 1);
        Requests r = Requests.nodejs("x");
        Lease a = acquire(pool, r.of("a"));
        Lease b = acquire(pool, r.of("b"));
        a.container();
        CompletableFuture<ActionContainer> bStarted = CompletableFuture.supplyAsync(() -> {
            try {
                return b.container();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(150);
        assertThat(bStarted).as("waits until the first cold start's init is done").isNotDone();
        assertThat(starter.started).hasSize(1);
        a.initialized(ScriptedContainer.ok(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()));
        assertThat(bStarted.get(5, TimeUnit.SECONDS)).isNotNull();
        b.release(false);
        a.release(true);
        assertThat(starter.maxInFlight.get()).isEqualTo(1);
    }

    @Test
    void prewarmedContainersAreTakenResizedAndRefilled() throws Exception {
        ContainerPool pool = pool(2048, Map.of("nodejs:20", 1, "python:3.11", 1), LONG_IDLE, 2);
        pool.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().prewarmed() == 2);
        assertThat(pool.stats().prewarmedByKind()).containsExactly(Map.entry("nodejs:20", 1), Map.entry("python:3.11", 1));
        ScriptedContainer prewarmedNode = starter.started.stream().filter(c -> c.kind().equals("nodejs:20")).findFirst().orElseThrow();

        Lease lease = acquire(pool, Requests.nodejs("x").memory(512).of("a"));
        assertThat(lease.start()).isEqualTo(StartKind.PREWARM);
        assertThat(lease.needsInit()).isTrue();
        assertThat(open(lease)).isSameAs(prewarmedNode);
        assertThat(prewarmedNode.resizes).containsExactly(512);
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().prewarmedByKind().get("nodejs:20") != null);
        lease.release(true);

        PoolStats stats = pool.stats();
        assertThat(stats.prewarmStarts()).isEqualTo(1);
        assertThat(stats.coldStarts()).isZero();
        assertThat(stats.memoryInUseMb()).isEqualTo(512 + 256 + 256);
        assertThat(starter.started).hasSize(3);
        // A concurrent action cannot use a one-slot prewarmed container.
        assertThat(acquire(pool, Requests.nodejs("x").concurrency(2).of("b")).start()).isEqualTo(StartKind.COLD);
    }

    @Test
    void prewarmingNeverGoesOverTheBudget() throws Exception {
        ContainerPool pool = pool(512, Map.of("nodejs:20", 1), LONG_IDLE, 2);
        pool.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().prewarmed() == 1);
        Lease other = acquire(pool, Requests.nodejs("x").kind("python:3.11").of("py"));
        open(other);
        Lease node = acquire(pool, Requests.nodejs("x").of("node"));
        assertThat(node.start()).isEqualTo(StartKind.PREWARM);
        open(node);
        Thread.sleep(100);
        assertThat(pool.stats().starting() + pool.stats().prewarmed()).as("no room for a refill").isZero();
        assertThat(pool.stats().memoryInUseMb()).isEqualTo(512);

        other.release(false); // frees 256 MB: the refill takes it
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().prewarmed() == 1);
        assertThat(pool.stats().memoryInUseMb()).isEqualTo(512);
        node.release(true);
    }

    @Test
    void aColdStartMayEvictAPrewarmedContainerOfAnotherKind() throws Exception {
        ContainerPool pool = pool(512, Map.of("nodejs:20", 1), LONG_IDLE, 2);
        pool.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().prewarmed() == 1);
        Lease lease = acquire(pool, Requests.nodejs("x").kind("python:3.11").memory(512).of("py"));
        assertThat(lease.start()).isEqualTo(StartKind.COLD);
        await().atMost(Duration.ofSeconds(5)).until(() -> starter.started.getFirst().closed());
        assertThat(pool.stats().evicted()).isEqualTo(1);
        lease.release(false);
    }

    @Test
    void idleWarmContainersAreReapedButPrewarmedOnesStay() throws Exception {
        ContainerPool pool = pool(1024, Map.of("nodejs:20", 1), Duration.ofMillis(200), 2);
        pool.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().prewarmed() == 1);
        ScriptedContainer warm = (ScriptedContainer) runOnce(pool, Requests.nodejs("x").kind("python:3.11").of("py"));
        assertThat(pool.stats().idle()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(warm::closed);
        PoolStats stats = pool.stats();
        assertThat(stats.reaped()).isEqualTo(1);
        assertThat(stats.idle()).isZero();
        assertThat(stats.prewarmed()).isEqualTo(1);
        assertThat(stats.memoryInUseMb()).isEqualTo(256);
    }

    @Test
    void aPrewarmKindThatFailsToStartIsNotRetriedAtOnce() throws Exception {
        starter.failWith = new IOException("broken runtime");
        ContainerPool pool = pool(1024, Map.of("nodejs:20", 1), Duration.ofMillis(100), 2);
        pool.start();
        Thread.sleep(500); // a few reaper rounds
        assertThat(starter.maxInFlight.get()).isEqualTo(1);
        assertThat(pool.stats().containers()).isZero();
        assertThat(pool.stats().memoryInUseMb()).isZero();
    }

    @Test
    void closeClosesEveryContainerAndRefusesNewWork() throws Exception {
        ContainerPool pool = pool(2048, Map.of("nodejs:20", 1), LONG_IDLE, 2);
        pool.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().prewarmed() == 1);
        ActionContainer idle = runOnce(pool, Requests.nodejs("x").kind("python:3.11").of("a"));
        Lease busy = acquire(pool, Requests.nodejs("x").kind("python:3.11").of("b"));
        ActionContainer running = open(busy);
        Lease notStarted = acquire(pool, Requests.nodejs("x").kind("python:3.11").of("c"));

        pool.close();
        assertThat(starter.started).allMatch(ScriptedContainer::closed);
        assertThat(((ScriptedContainer) idle).closed()).isTrue();
        assertThat(((ScriptedContainer) running).closed()).isTrue();
        assertThat(pool.acquire(Requests.nodejs("x").of("d"))).isEmpty();
        assertThatThrownBy(notStarted::container).isInstanceOf(ContainerUnavailableException.class);
        busy.release(true);
        notStarted.release(true);
        assertThat(pool.stats().containers()).isZero();
        assertThat(pool.stats().memoryInUseMb()).isZero();
    }

    @Test
    void releasingTwiceCountsOnce() throws Exception {
        ContainerPool pool = pool(1024);
        Lease lease = acquire(pool, Requests.nodejs("x").of("a"));
        open(lease);
        lease.release(true);
        lease.release(false);
        assertThat(pool.stats().idle()).isEqualTo(1);
        assertThat(pool.stats().activations()).isZero();
    }

    @Test
    void manyThreadsNeverOvercommitTheBudget() throws Exception {
        ContainerPool pool = pool(1024);
        Requests r = Requests.nodejs("x");
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Integer> memorySeen = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < 8; t++) {
            int n = t;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < 200; i++) {
                        Optional<Lease> lease = pool.acquire(r.of("action-" + ((n + i) % 6)));
                        memorySeen.add(pool.stats().memoryInUseMb());
                        if (lease.isPresent()) {
                            open(lease.get());
                            lease.get().release(i % 7 != 0);
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(memorySeen).allMatch(m -> m <= 1024);
        PoolStats stats = pool.stats();
        assertThat(stats.activations()).isZero();
        assertThat(stats.memoryInUseMb()).isEqualTo(stats.containers() * 256);
        assertThat(stats.coldStarts() + stats.warmStarts() + stats.rejected()).isEqualTo(8 * 200);
    }

    @Test
    void anActivationWithoutRoomWaitsForAnotherToEndAndIsRefusedOnlyWhenTheWaitRunsOut() throws Exception {
        ContainerPool pool = new ContainerPool("z1", new PoolConfig(256, Map.of(), 256, LONG_IDLE, 2, Duration.ofMillis(400), 1), starter);
        pools.add(pool);
        Requests hello = Requests.nodejs("function main(a) { return a; }");
        Lease busy = acquire(pool, hello.of("hello"));
        open(busy);
        assertThat(pool.acquire(hello.of("hello"))).as("its only container is busy").isEmpty();

        // Room comes back while it waits: placed on the container the other activation released.
        CompletableFuture<Optional<Lease>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return pool.acquireWithin(hello.of("hello"));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> pool.stats().waiting() == 1);
        long released = System.nanoTime();
        busy.release(true);
        Lease placed = waiting.get(2, TimeUnit.SECONDS).orElseThrow();
        System.out.printf("MEASURED a waiting activation was placed %.1f ms after a container was released%n",
                (System.nanoTime() - released) / 1e6);
        assertThat(placed.start()).isEqualTo(StartKind.WARM);

        // No room comes back: refused once the capacity wait ends, and never more waiting than allowed.
        CompletableFuture<Optional<Lease>> refused = CompletableFuture.supplyAsync(() -> {
            try {
                return pool.acquireWithin(hello.of("hello"));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> pool.stats().waiting() == 1);
        assertThat(pool.acquireWithin(hello.of("other"))).as("one activation may wait; a second is refused at once").isEmpty();
        long waitStarted = System.nanoTime();
        assertThat(refused.get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat((System.nanoTime() - waitStarted) / 1_000_000).as("ms until refused").isLessThan(2_000);
        assertThat(pool.stats().waited()).isEqualTo(2);
        assertThat(pool.stats().rejected()).isEqualTo(3);
        placed.release(true);
    }
}
