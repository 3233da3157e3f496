package io.petrel.invoker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.petrel.container.ActionContainer;
import io.petrel.container.InitMessage;
import io.petrel.container.Outcome;
import io.petrel.container.RunMessage;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An in-memory container for tests of pool accounting and result mapping, where a real process would add
 * nothing but time. Runs echo their value; tests script failures and blocking.
 */
final class ScriptedContainer implements ActionContainer {
    private final String id;
    private final String kind;
    private final int concurrency;
    private volatile int memoryMb;
    private volatile boolean usable = true;
    private volatile boolean closed;
    volatile Function<InitMessage, Outcome> onInit = init -> ok(JsonNodeFactory.instance.objectNode());
    volatile Function<RunMessage, Outcome> onRun = run -> ok(run.value());
    /** When set, runs wait for it: tests hold activations in flight. */
    volatile CountDownLatch runGate;
    final List<InitMessage> inits = new CopyOnWriteArrayList<>();
    final List<RunMessage> runs = new CopyOnWriteArrayList<>();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();
    final List<Integer> resizes = new CopyOnWriteArrayList<>();
    final List<Duration> initTimeouts = new CopyOnWriteArrayList<>();
    final List<Duration> runTimeouts = new CopyOnWriteArrayList<>();

    ScriptedContainer(String id, String kind, int memoryMb, int concurrency) {
        this.id = id;
        this.kind = kind;
        this.memoryMb = memoryMb;
        this.concurrency = concurrency;
    }

    static Outcome ok(JsonNode result) {
        long now = System.currentTimeMillis();
        return new Outcome(0, result, List.of(), now, now, false, true);
    }

    static Outcome failure(int status, String error, boolean timedOut, boolean usable) {
        long now = System.currentTimeMillis();
        return new Outcome(status, JsonNodeFactory.instance.objectNode().put("error", error), List.of(), now, now,
                timedOut, usable);
    }

    // Scripts build their outcome at the end; the container's outcome spans the whole call.
    private static Outcome timed(long begin, Outcome o) {
        return new Outcome(o.statusCode(), o.result(), o.logs(), begin, System.currentTimeMillis(), o.timedOut(),
                o.containerUsable());
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public int memoryMb() {
        return memoryMb;
    }

    int concurrency() {
        return concurrency;
    }

    @Override
    public void resize(int memoryMb) {
        resizes.add(memoryMb);
        this.memoryMb = memoryMb;
    }

    @Override
    public Outcome init(InitMessage init, Duration timeout) {
        inits.add(init);
        initTimeouts.add(timeout);
        long begin = System.currentTimeMillis();
        Outcome outcome = timed(begin, onInit.apply(init));
        if (!outcome.containerUsable()) {
            usable = false;
        }
        return outcome;
    }

    @Override
    public Outcome run(RunMessage run, Duration timeout, long logLimitBytes) {
        runs.add(run);
        runTimeouts.add(timeout);
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        try {
            CountDownLatch gate = runGate;
            if (gate != null && !gate.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test gate never opened");
            }
            long begin = System.currentTimeMillis();
            Outcome outcome = closed ? failure(2, "The action did not produce a valid response and exited unexpectedly.",
                    false, false) : onRun.apply(run);
            outcome = timed(begin, outcome);
            if (!outcome.containerUsable()) {
                usable = false;
            }
            return outcome;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            running.decrementAndGet();
        }
    }

    void breakIt() {
        usable = false;
    }

    @Override
    public boolean usable() {
        return usable && !closed;
    }

    boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }
}
