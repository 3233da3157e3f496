package io.petrel.invoker;

import io.petrel.api.invoke.RunRequest;
import io.petrel.container.ActionContainer;
import io.petrel.container.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The containers of one zone, within one memory budget. Placement ({@link #acquire}) never waits: it
 * reuses a warm container of the same action with a free slot, else takes a prewarmed container of
 * the kind, else reserves memory for a cold start (evicting idle containers of other actions, least
 * recently used first), else answers empty so the caller can go elsewhere. When nowhere has room,
 * {@link #acquireWithin} waits for some, up to the configured capacity wait.
 *
 * <p>Thread-safe. One lock guards the book-keeping; nothing slow (starting, closing, init) runs under
 * it. It is a {@link ReentrantLock}, not {@code synchronized}, so virtual threads never pin on it.
 */
public final class ContainerPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContainerPool.class);

    /** Prewarmed containers start with one slot: a concurrent launcher writes no log markers, so it would lose logs. */
    static final int PREWARM_CONCURRENCY = 1;
    /** A kind whose prewarm start failed is not tried again sooner, so a broken runtime does not spin. */
    private static final Duration PREWARM_RETRY = Duration.ofSeconds(30);
    /** How long after a prewarmed container is taken its replacement starts, unless its activation ends first. */
    static final Duration REFILL_DELAY = Duration.ofMillis(100);

    /**
     * Initialized containers before ones still in their init; among them the most recently used, so that
     * the least recently used go idle and are reaped.
     */
    private static final Comparator<PooledContainer> WARM_PREFERENCE = Comparator
            .comparing((PooledContainer c) -> !c.initializedOk())
            .thenComparing(Comparator.comparingLong((PooledContainer c) -> c.lastUsedNanos).reversed());

    private final String zone;
    private final PoolConfig config;
    private final ContainerStarter starter;
    private final LongSupplier nanoClock;
    private final Semaphore coldStartPermits;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled, with {@link #roomChanges} bumped, whenever a slot or memory is given back. */
    private final java.util.concurrent.locks.Condition roomFreed = lock.newCondition();

    // Guarded by lock.
    private final List<PooledContainer> containers = new ArrayList<>();
    private final Map<String, Long> prewarmRetryAfterNanos = new HashMap<>();
    private int memoryInUseMb;
    private long serials;
    private boolean started;
    private boolean closed;
    private long coldStarts;
    private long prewarmStarts;
    private long warmStarts;
    private long rejected;
    private long evicted;
    private long reaped;
    private long discarded;
    private long roomChanges;
    private int waiting;
    private long waited;
    private ScheduledExecutorService reaper;

    public ContainerPool(String zone, PoolConfig config, ContainerStarter starter) {
        this(zone, config, starter, System::nanoTime);
    }

    ContainerPool(String zone, PoolConfig config, ContainerStarter starter, LongSupplier nanoClock) {
        this.zone = requireNonNull(zone, "zone");
        this.config = requireNonNull(config, "config");
        this.starter = requireNonNull(starter, "starter");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        // Fair, so a burst of cold starts is served in the order it was placed.
        this.coldStartPermits = new Semaphore(config.maxColdStarts(), true);
    }

    /** Starts the prewarmed containers and the idle reaper. Placement works before this, without them. */
    public void start() {
        lock.lock();
        try {
            if (started || closed) {
                return;
            }
            started = true;
            reaper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "petrel-pool-reaper-" + zone);
                t.setDaemon(true);
                return t;
            });
            long period = Math.clamp(config.idleTimeout().toMillis() / 2, 50, 30_000);
            reaper.scheduleWithFixedDelay(this::reapSafely, period, period, TimeUnit.MILLISECONDS);
        } finally {
            lock.unlock();
        }
        log.info("zone {}: container pool started: {} MB, prewarm {} at {} MB, idle {} s, {} cold starts at once",
                zone, config.memoryMb(), config.prewarm(), config.prewarmMemoryMb(), config.idleTimeout().toSeconds(),
                config.maxColdStarts());
        refill();
    }

    public PoolConfig config() {
        return config;
    }

    /**
     * Places an activation, at once. Empty when the pool has no room for it (or is closed). A present
     * lease holds its slot until {@link Lease#release}.
     */
    public Optional<Lease> acquire(RunRequest request) {
        requireNonNull(request, "request");
        return acquire(ActionKey.of(request), request, true);
    }

    /**
     * Places an activation, waiting up to the configured capacity wait for room when there is none
     * now: for an activation no zone has room for at the moment. Empty when the wait ends without room,
     * when {@code maxWaiting} activations wait already, or when the action could never fit.
     */
    public Optional<Lease> acquireWithin(RunRequest request) throws InterruptedException {
        requireNonNull(request, "request");
        ActionKey key = ActionKey.of(request); // once: the digest reads the code, which may be megabytes
        Optional<Lease> now = acquire(key, request, false);
        if (now.isPresent() || config.capacityWait().isZero()) {
            countRejectionIf(now.isEmpty());
            return now;
        }
        long deadline = System.nanoTime() + config.capacityWait().toNanos();
        lock.lock();
        try {
            if (waiting >= config.maxWaiting() || request.limits().memoryMb() > config.memoryMb() || closed) {
                rejected++;
                return Optional.empty();
            }
            waiting++;
            waited++;
        } finally {
            lock.unlock();
        }
        try {
            while (true) {
                long seen;
                lock.lock();
                try {
                    seen = roomChanges;
                } finally {
                    lock.unlock();
                }
                Optional<Lease> placed = acquire(key, request, false);
                if (placed.isPresent()) {
                    return placed;
                }
                lock.lock();
                try {
                    long remaining = deadline - System.nanoTime();
                    while (roomChanges == seen && remaining > 0 && !closed) {
                        remaining = roomFreed.awaitNanos(remaining);
                    }
                    if (roomChanges == seen) {
                        rejected++;
                        return Optional.empty();
                    }
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            lock.lock();
            try {
                waiting--;
            } finally {
                lock.unlock();
            }
        }
    }

    private void countRejectionIf(boolean rejectedNow) {
        if (rejectedNow) {
            lock.lock();
            try {
                rejected++;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Under the lock: a slot or memory was given back, so waiting placements try again. */
    private void roomFreed() {
        roomChanges++;
        roomFreed.signalAll();
    }

    /** {@code key} is {@code ActionKey.of(request)}, computed by the caller outside the lock: the digest reads the code. */
    private Optional<Lease> acquire(ActionKey key, RunRequest request, boolean countRejection) {
        List<PooledContainer> victims = new ArrayList<>();
        Lease lease;
        lock.lock();
        try {
            if (closed) {
                return Optional.empty();
            }
            lease = placeWarm(key, request);
            if (lease == null) {
                lease = placePrewarmed(key, request, victims);
            }
            if (lease == null) {
                lease = placeCold(key, request, victims);
            }
            if (lease == null && countRejection) {
                rejected++;
            }
        } finally {
            lock.unlock();
        }
        for (PooledContainer victim : victims) {
            log.info("zone {}: evicting {} container {} of {} to make room for {} (activation {})", zone,
                    victim.key == null ? "prewarmed" : "idle", victim.name(), victim.key == null ? victim.kind : victim.key,
                    key, request.activationId());
            closeInBackground(victim.container);
        }
        if (lease == null) {
            if (log.isDebugEnabled()) {
                log.debug("zone {}: no room for {} MB of {} (activation {}): {}", zone, key.memoryMb(), key,
                        request.activationId(), stats());
            }
            return Optional.empty();
        }
        // Logged here, not under the lock. A prewarmed slot's container is set once and never changes.
        switch (lease.start()) {
            case WARM -> log.debug("zone {}: warm start on {} for {} (activation {})", zone, lease.slot().name(), key,
                    request.activationId());
            case PREWARM -> {
                log.info("zone {}: prewarmed container {} taken by {} (activation {})", zone, lease.slot().name(), key,
                        request.activationId());
                refillSoon();
            }
            case COLD -> { } // logged once the process runs, with its id
        }
        return Optional.of(lease);
    }

    // The most recently used initialized container with a free slot; else one still being initialized
    // by another activation (concurrency above 1), which this one then waits for.
    private Lease placeWarm(ActionKey key, RunRequest request) {
        PooledContainer best = null;
        for (PooledContainer c : containers) {
            if (c.retired || !key.equals(c.key) || c.inFlight >= c.concurrency
                    || (c.initialized.isDone() && !c.initializedOk())) {
                continue;
            }
            if (best == null || WARM_PREFERENCE.compare(c, best) < 0) {
                best = c;
            }
        }
        if (best == null) {
            return null;
        }
        best.inFlight++;
        best.lastUsedNanos = nanoClock.getAsLong();
        warmStarts++;
        return new Lease(this, best, StartKind.WARM, request.activationId(), request.actionName());
    }

    private Lease placePrewarmed(ActionKey key, RunRequest request, List<PooledContainer> victims) {
        if (key.concurrency() != PREWARM_CONCURRENCY) {
            return null;
        }
        PooledContainer prewarmed = null;
        for (PooledContainer c : containers) {
            if (!c.retired && c.state() == PooledContainer.State.PREWARMED && c.kind.equals(key.kind())) {
                prewarmed = c;
                break;
            }
        }
        if (prewarmed == null) {
            return null;
        }
        int delta = key.memoryMb() - prewarmed.memoryMb;
        if (delta > 0 && !makeRoom(delta, prewarmed, victims)) {
            return null;
        }
        memoryInUseMb += delta;
        prewarmed.assign(key, key.memoryMb());
        prewarmed.inFlight = 1;
        prewarmed.lastUsedNanos = nanoClock.getAsLong();
        prewarmStarts++;
        return new Lease(this, prewarmed, StartKind.PREWARM, request.activationId(), request.actionName());
    }

    private Lease placeCold(ActionKey key, RunRequest request, List<PooledContainer> victims) {
        if (!makeRoom(key.memoryMb(), null, victims)) {
            return null;
        }
        PooledContainer c = new PooledContainer(++serials, key.kind(), key.memoryMb(), key.concurrency(), key,
                nanoClock.getAsLong());
        c.inFlight = 1;
        containers.add(c);
        memoryInUseMb += c.memoryMb;
        coldStarts++;
        return new Lease(this, c, StartKind.COLD, request.activationId(), request.actionName());
    }

    /**
     * Makes {@code neededMb} free, retiring idle warm containers least recently used first and then
     * prewarmed ones (other than {@code keep}); retires nothing when that would still not be enough.
     */
    private boolean makeRoom(int neededMb, PooledContainer keep, List<PooledContainer> victims) {
        int free = config.memoryMb() - memoryInUseMb;
        if (free >= neededMb) {
            return true;
        }
        List<PooledContainer> candidates = new ArrayList<>();
        for (PooledContainer c : containers) {
            PooledContainer.State state = c.state();
            if (c != keep && !c.retired && (state == PooledContainer.State.IDLE || state == PooledContainer.State.PREWARMED)) {
                candidates.add(c);
            }
        }
        candidates.sort(Comparator.comparing((PooledContainer c) -> c.state() == PooledContainer.State.PREWARMED)
                .thenComparingLong(c -> c.lastUsedNanos));
        List<PooledContainer> chosen = new ArrayList<>();
        for (PooledContainer c : candidates) {
            if (free >= neededMb) {
                break;
            }
            chosen.add(c);
            free += c.memoryMb;
        }
        if (free < neededMb) {
            return false;
        }
        for (PooledContainer c : chosen) {
            retire(c);
            evicted++;
        }
        victims.addAll(chosen);
        return true;
    }

    private void retire(PooledContainer c) {
        c.retired = true;
        containers.remove(c);
        memoryInUseMb -= c.memoryMb;
        roomFreed();
    }

    /** {@link Lease#container()}. */
    ActionContainer open(Lease lease) throws ContainerUnavailableException, InterruptedException {
        PooledContainer slot = lease.slot();
        return switch (lease.start()) {
            case COLD -> startCold(lease, slot);
            case PREWARM -> resizePrewarmed(lease, slot);
            case WARM -> awaitInitialized(lease, slot);
        };
    }

    private ActionContainer startCold(Lease lease, PooledContainer slot)
            throws ContainerUnavailableException, InterruptedException {
        // Held until the first init is done: starting an interpreter and loading the code is what loads the cores.
        coldStartPermits.acquire();
        lease.coldStartPermit().set(true);
        long begin = nanoClock.getAsLong();
        ActionContainer container;
        try {
            container = requireNonNull(starter.start(slot.kind, slot.memoryMb, slot.concurrency), "started container");
        } catch (IOException | RuntimeException e) {
            // The invoker logs it, with the activation's outcome.
            throw new ContainerUnavailableException(reason(e), Optional.empty(), e);
        }
        boolean attached;
        lock.lock();
        try {
            attached = !closed && !slot.retired;
            if (attached) {
                slot.container = container;
            }
        } finally {
            lock.unlock();
        }
        if (!attached) {
            closeQuietly(container);
            throw new ContainerUnavailableException("the container pool of zone " + zone + " is closed", Optional.empty(), null);
        }
        log.info("zone {}: cold start of container {} ({}, {} MB, concurrency {}) for {} (activation {}) in {} ms",
                zone, container.id(), slot.kind, slot.memoryMb, slot.concurrency, lease.actionName(),
                lease.activationId(), TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - begin));
        return container;
    }

    private ActionContainer resizePrewarmed(Lease lease, PooledContainer slot) throws ContainerUnavailableException {
        ActionContainer container;
        int memory;
        lock.lock();
        try {
            container = slot.container;
            memory = slot.memoryMb;
        } finally {
            lock.unlock();
        }
        try {
            if (container.memoryMb() != memory) {
                container.resize(memory);
            }
        } catch (RuntimeException e) {
            throw new ContainerUnavailableException("could not resize prewarmed container " + container.id() + " to "
                    + memory + " MB: " + reason(e), Optional.empty(), e);
        }
        return container;
    }

    private static ActionContainer awaitInitialized(Lease lease, PooledContainer slot)
            throws ContainerUnavailableException, InterruptedException {
        CompletableFuture<ActionContainer> initialized = slot.initialized; // assigned before any warm lease exists
        try {
            return initialized.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ContainerUnavailableException unavailable) {
                throw new ContainerUnavailableException(unavailable.getMessage(), unavailable.initOutcome(), unavailable);
            }
            throw new ContainerUnavailableException(reason(e.getCause()), Optional.empty(), e.getCause());
        }
    }

    /** {@link Lease#initialized}. */
    void initialized(Lease lease, Outcome init) {
        releaseColdStartPermit(lease);
        PooledContainer slot = lease.slot();
        CompletableFuture<ActionContainer> initialized;
        ActionContainer container;
        lock.lock();
        try {
            initialized = slot.initialized;
            container = slot.container;
        } finally {
            lock.unlock();
        }
        if (init.statusCode() == 0 && init.containerUsable()) {
            initialized.complete(container);
        } else {
            initialized.completeExceptionally(new ContainerUnavailableException("the action's init failed",
                    Optional.of(init), null));
        }
    }

    /** {@link Lease#release}. */
    void release(Lease lease, boolean reusable) {
        releaseColdStartPermit(lease);
        PooledContainer slot = lease.slot();
        ActionContainer container;
        lock.lock();
        try {
            container = slot.container;
        } finally {
            lock.unlock();
        }
        boolean usable = reusable && container != null && usable(container);
        boolean discard;
        CompletableFuture<ActionContainer> initialized;
        lock.lock();
        try {
            slot.inFlight--;
            slot.lastUsedNanos = nanoClock.getAsLong();
            roomFreed();
            initialized = slot.initialized;
            discard = !slot.retired && (!usable || !slot.initializedOk());
            if (discard) {
                retire(slot);
                discarded++;
            }
        } finally {
            lock.unlock();
        }
        if (discard) {
            // Activations waiting for a container that was never initialized must not wait forever.
            initialized.completeExceptionally(new ContainerUnavailableException(
                    "the container was discarded before it was initialized", Optional.empty(), null));
            if (container != null) {
                if (reusable) {
                    log.info("zone {}: discarding container {} of {} after activation {}: it is not usable", zone,
                            container.id(), slot.key, lease.activationId());
                } else {
                    // The caller said why (timeout, crash, failed init) in its own line.
                    log.debug("zone {}: discarding container {} of {} after activation {}", zone, container.id(),
                            slot.key, lease.activationId());
                }
                closeInBackground(container);
            }
        }
        refill();
    }

    private static boolean usable(ActionContainer container) {
        try {
            return container.usable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void releaseColdStartPermit(Lease lease) {
        if (lease.coldStartPermit().compareAndSet(true, false)) {
            coldStartPermits.release();
        }
    }

    /**
     * Refills the reserve a little later: a new runtime process started at once would take the CPU
     * from the init and first run of the activation that just took a prewarmed container (on two
     * cores, a JVM's start against a Java action's first run), and that start is what prewarming is
     * for. The release of the activation's lease refills at once anyway.
     */
    private void refillSoon() {
        ScheduledExecutorService scheduler;
        lock.lock();
        try {
            scheduler = closed ? null : reaper;
        } finally {
            lock.unlock();
        }
        if (scheduler == null) {
            return;
        }
        try {
            scheduler.schedule(this::refill, REFILL_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the pool is closing
        }
    }

    /** Starts prewarmed containers until every kind has its count, as far as memory and cold-start permits allow. */
    private void refill() {
        List<PooledContainer> toStart = new ArrayList<>();
        lock.lock();
        try {
            if (!started || closed) {
                return;
            }
            long now = nanoClock.getAsLong();
            for (Map.Entry<String, Integer> e : config.prewarm().entrySet()) {
                String kind = e.getKey();
                Long retryAfter = prewarmRetryAfterNanos.get(kind);
                if (retryAfter != null && now - retryAfter < 0) {
                    continue;
                }
                long have = containers.stream().filter(c -> c.key == null && c.kind.equals(kind)).count();
                while (have < e.getValue() && config.memoryMb() - memoryInUseMb >= config.prewarmMemoryMb()
                        && coldStartPermits.tryAcquire()) {
                    // Prewarming only takes a free permit: placed activations waiting for one come first.
                    PooledContainer c = new PooledContainer(++serials, kind, config.prewarmMemoryMb(), PREWARM_CONCURRENCY,
                            null, now);
                    containers.add(c);
                    memoryInUseMb += c.memoryMb;
                    toStart.add(c);
                    have++;
                }
            }
        } finally {
            lock.unlock();
        }
        for (PooledContainer c : toStart) {
            Thread.ofVirtual().name("petrel-prewarm-" + zone + "-" + c.kind).start(() -> startPrewarmed(c));
        }
    }

    private void startPrewarmed(PooledContainer slot) {
        long begin = nanoClock.getAsLong();
        ActionContainer container = null;
        Exception failure = null;
        try {
            container = requireNonNull(starter.start(slot.kind, slot.memoryMb, slot.concurrency), "started container");
        } catch (IOException | RuntimeException e) {
            failure = e;
        } finally {
            coldStartPermits.release();
        }
        boolean attached = false;
        lock.lock();
        try {
            if (failure != null) {
                if (!slot.retired) {
                    retire(slot);
                }
                prewarmRetryAfterNanos.put(slot.kind, nanoClock.getAsLong() + PREWARM_RETRY.toNanos());
            } else if (!closed && !slot.retired) {
                slot.container = container;
                prewarmRetryAfterNanos.remove(slot.kind);
                attached = true;
                roomFreed();
            }
        } finally {
            lock.unlock();
        }
        if (failure != null) {
            log.warn("zone {}: could not start a prewarmed {} container, retrying in {} s: {}", zone, slot.kind,
                    PREWARM_RETRY.toSeconds(), failure.toString());
        } else if (!attached) {
            closeQuietly(container);
        } else {
            log.info("zone {}: prewarmed container {} ({}, {} MB) started in {} ms", zone, container.id(), slot.kind,
                    slot.memoryMb, TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - begin));
        }
    }

    private void reapSafely() {
        try {
            reapIdle();
            refill();
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: the pool would silently stop reaping.
            log.warn("zone {}: idle reaper failed, will retry", zone, e);
        }
    }

    /** Closes warm containers unused for longer than the idle time; prewarmed ones are the reserve and stay. */
    void reapIdle() {
        List<PooledContainer> expired = new ArrayList<>();
        long now = nanoClock.getAsLong();
        long idleNanos = config.idleTimeout().toNanos();
        lock.lock();
        try {
            for (PooledContainer c : List.copyOf(containers)) {
                if (c.state() == PooledContainer.State.IDLE && now - c.lastUsedNanos > idleNanos) {
                    retire(c);
                    reaped++;
                    expired.add(c);
                }
            }
        } finally {
            lock.unlock();
        }
        for (PooledContainer c : expired) {
            log.info("zone {}: closing container {} of {}: idle for {} s", zone, c.name(), c.key,
                    TimeUnit.NANOSECONDS.toSeconds(now - c.lastUsedNanos));
            closeInBackground(c.container);
        }
    }

    /**
     * Memory a new activation could have now: free memory plus what idle warm containers hold (they
     * are evicted for it). What the zone publishes for placement.
     */
    public int availableMb() {
        lock.lock();
        try {
            int idle = 0;
            for (PooledContainer c : containers) {
                if (c.state() == PooledContainer.State.IDLE) {
                    idle += c.memoryMb;
                }
            }
            return Math.max(0, config.memoryMb() - memoryInUseMb + idle);
        } finally {
            lock.unlock();
        }
    }

    public PoolStats stats() {
        lock.lock();
        try {
            int[] byState = new int[PooledContainer.State.values().length];
            Map<String, Integer> prewarmedByKind = new HashMap<>();
            int activations = 0;
            for (PooledContainer c : containers) {
                PooledContainer.State state = c.state();
                byState[state.ordinal()]++;
                if (state == PooledContainer.State.PREWARMED) {
                    prewarmedByKind.merge(c.kind, 1, Integer::sum);
                }
                activations += c.inFlight;
            }
            return new PoolStats(byState[PooledContainer.State.STARTING.ordinal()],
                    byState[PooledContainer.State.PREWARMED.ordinal()],
                    byState[PooledContainer.State.INITIALIZING.ordinal()],
                    byState[PooledContainer.State.BUSY.ordinal()], byState[PooledContainer.State.IDLE.ordinal()],
                    activations, memoryInUseMb, config.memoryMb(), prewarmedByKind, coldStarts, prewarmStarts,
                    warmStarts, rejected, evicted, reaped, discarded, waiting, waited);
        } finally {
            lock.unlock();
        }
    }

    /** Closes every container, running activations' too (they end with the container's failure outcome). */
    @Override
    public void close() {
        List<PooledContainer> all;
        ScheduledExecutorService reaperToStop;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            roomFreed(); // activations waiting for room give up now
            all = List.copyOf(containers);
            for (PooledContainer c : all) {
                retire(c);
            }
            reaperToStop = reaper;
        } finally {
            lock.unlock();
        }
        if (reaperToStop != null) {
            reaperToStop.shutdownNow();
        }
        List<Thread> closing = new ArrayList<>();
        for (PooledContainer c : all) {
            if (c.initialized != null) {
                c.initialized.completeExceptionally(new ContainerUnavailableException(
                        "the container pool of zone " + zone + " is closed", Optional.empty(), null));
            }
            if (c.container != null) {
                ActionContainer container = c.container;
                closing.add(Thread.ofVirtual().name("petrel-pool-close-" + zone).start(() -> closeQuietly(container)));
            }
        }
        for (Thread t : closing) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        log.info("zone {}: container pool closed ({} containers)", zone, closing.size());
    }

    private void closeInBackground(ActionContainer container) {
        if (container != null) {
            // Killing a process and removing its folder may take a while; the activation's answer must not wait for it.
            Thread.ofVirtual().name("petrel-pool-close-" + zone).start(() -> closeQuietly(container));
        }
    }

    private void closeQuietly(ActionContainer container) {
        try {
            container.close();
        } catch (RuntimeException e) {
            log.warn("zone {}: closing container {} failed: {}", zone, container.id(), e.toString());
        }
    }

    private static String reason(Throwable e) {
        if (e == null) {
            return "unknown";
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
