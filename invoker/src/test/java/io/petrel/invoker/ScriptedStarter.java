package io.petrel.invoker;

import io.petrel.container.ActionContainer;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** Starts {@link ScriptedContainer}s and remembers them; can be made to fail or to hold starts. */
final class ScriptedStarter implements ContainerStarter {
    final List<ScriptedContainer> started = new CopyOnWriteArrayList<>();
    final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger ids = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    volatile IOException failWith;
    /** When set, starts wait for it. */
    volatile CountDownLatch gate;
    /** Applied to every new container, for scripting its behaviour. */
    volatile Consumer<ScriptedContainer> configure = c -> { };

    @Override
    public ActionContainer start(String kind, int memoryMb, int concurrency) throws IOException {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try {
            CountDownLatch g = gate;
            if (g != null && !g.await(10, TimeUnit.SECONDS)) {
                throw new IOException("test gate never opened");
            }
            if (failWith != null) {
                throw failWith;
            }
            ScriptedContainer c = new ScriptedContainer("t" + ids.incrementAndGet(), kind, memoryMb, concurrency);
            configure.accept(c);
            started.add(c);
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    ScriptedContainer last() {
        return started.get(started.size() - 1);
    }
}
