package io.petrel.invoker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.petrel.api.invoke.ActionCode;
import io.petrel.api.invoke.ActionRunner;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.invoke.RunResult;
import io.petrel.container.ActionContainer;
import io.petrel.container.InitMessage;
import io.petrel.container.Outcome;
import io.petrel.container.RunMessage;
import io.petrel.runtimes.RuntimeCatalog;
import io.petrel.runtimes.RuntimeKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

import static java.util.Objects.requireNonNull;

/**
 * Runs activations in this zone's containers: places each on the pool at once (or answers empty when
 * the pool has no room), then inits and runs it on a virtual thread of its own. The action's time
 * limit covers init and run together, as in OpenWhisk.
 *
 * <p>Closing the invoker closes its pool.
 */
public final class LocalInvoker implements ActionRunner, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalInvoker.class);

    static final int STATUS_DEVELOPER_ERROR = 2;
    static final int STATUS_INTERNAL_ERROR = 3;

    private final String zone;
    private final ContainerPool pool;
    private final List<String> kinds;
    private final UnaryOperator<String> canonicalKind;

    /** An invoker for the kinds of {@code catalog}; {@code nodejs:default} and aliases are run as the kind they name. */
    public LocalInvoker(String zone, RuntimeCatalog catalog, ContainerPool pool) {
        this(zone, pool, catalog.kinds().stream().map(RuntimeKind::kind).toList(),
                kind -> catalog.resolve(kind).map(RuntimeKind::kind).orElse(kind));
    }

    /**
     * An invoker for a fixed list of kinds, without aliases (tests, or a node that resolved kinds itself).
     *
     * @param kinds the kinds this machine runs, for {@link #kinds()}
     */
    public LocalInvoker(String zone, ContainerPool pool, Collection<String> kinds) {
        this(zone, pool, List.copyOf(kinds), UnaryOperator.identity());
    }

    private LocalInvoker(String zone, ContainerPool pool, List<String> kinds, UnaryOperator<String> canonicalKind) {
        this.zone = requireNonNull(zone, "zone");
        this.pool = requireNonNull(pool, "pool");
        this.kinds = List.copyOf(kinds);
        this.canonicalKind = requireNonNull(canonicalKind, "canonicalKind");
    }

    @Override
    public Optional<CompletableFuture<RunResult>> tryRun(RunRequest request) {
        try {
            return place(request, pool::acquire);
        } catch (InterruptedException e) {
            throw new IllegalStateException("placement without waiting was interrupted", e); // acquire never waits
        }
    }

    /** Waits in this zone's pool for room, up to its capacity wait ({@code invoker.capacity.wait.ms}). */
    @Override
    public Optional<CompletableFuture<RunResult>> tryRunWaiting(RunRequest request) throws InterruptedException {
        return place(request, pool::acquireWithin);
    }

    /** How the pool is asked for a lease: at once, or waiting for room. */
    @FunctionalInterface
    private interface Placement {
        Optional<Lease> acquire(RunRequest request) throws InterruptedException;
    }

    private Optional<CompletableFuture<RunResult>> place(RunRequest request, Placement placement) throws InterruptedException {
        requireNonNull(request, "request");
        RunRequest canonical;
        Optional<Lease> placed;
        try {
            canonical = withCanonicalKind(request);
            placed = placement.acquire(canonical);
        } catch (RuntimeException e) {
            log.warn("zone {}: placing activation {} of {} failed", zone, request.activationId(), request.actionName(), e);
            return Optional.of(CompletableFuture.completedFuture(internalError(reason(e))));
        }
        return placed.map(lease -> start(canonical, lease));
    }

    private CompletableFuture<RunResult> start(RunRequest canonical, Lease lease) {
        CompletableFuture<RunResult> done = new CompletableFuture<>();
        try {
            Thread.ofVirtual().name("petrel-activation-" + canonical.activationId()).start(() -> {
                try {
                    done.complete(run(canonical, lease));
                } catch (Throwable t) {
                    // The future never fails: even an Error inside the run is an internal-error result.
                    lease.release(false);
                    log.warn("zone {}: activation {} of {} failed unexpectedly", zone, canonical.activationId(),
                            canonical.actionName(), t);
                    done.complete(internalError(reason(t)));
                }
            });
        } catch (RuntimeException | OutOfMemoryError e) {
            lease.release(false);
            log.warn("zone {}: could not start a thread for activation {} of {}", zone, canonical.activationId(),
                    canonical.actionName(), e);
            done.complete(internalError(reason(e)));
        }
        return done;
    }

    // Warm reuse and prewarmed containers go by the kind's real name: nodejs:default must find nodejs:20's.
    private RunRequest withCanonicalKind(RunRequest r) {
        String kind = canonicalKind.apply(r.code().kind());
        if (kind.equals(r.code().kind())) {
            return r;
        }
        ActionCode code = new ActionCode(kind, r.code().code(), r.code().binary(), r.code().main());
        return new RunRequest(r.activationId(), r.transactionId(), r.namespace(), r.actionName(), r.version(),
                r.revision(), code, r.initEnv(), r.value(), r.limits(), r.apiKey(), r.acceptedAtMillis());
    }

    private RunResult run(RunRequest request, Lease lease) {
        ActionContainer container;
        try {
            container = lease.container();
        } catch (ContainerUnavailableException e) {
            lease.release(false);
            if (e.initOutcome().isPresent()) {
                // This activation waited for a container another activation was initializing, and that init failed.
                long now = System.currentTimeMillis();
                Outcome init = e.initOutcome().get();
                return new RunResult(initFailureStatus(init), init.result(), init.logs(), now, now, OptionalLong.empty(),
                        init.timedOut(), zone);
            }
            log.warn("zone {}: no {} container ({} MB) for activation {} of {}: {}", zone, request.code().kind(),
                    request.limits().memoryMb(), request.activationId(), request.actionName(), e.getMessage());
            return internalError(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lease.release(false);
            return internalError("interrupted while waiting for a container");
        }

        long start = System.currentTimeMillis();
        long timeoutMillis = request.limits().timeoutMillis();
        long deadline = start + timeoutMillis;
        OptionalLong initMillis = OptionalLong.empty();
        List<String> initLogs = List.of();
        if (lease.needsInit()) {
            Outcome init = container.init(initMessage(request, deadline), Duration.ofMillis(timeoutMillis));
            lease.initialized(init);
            initMillis = OptionalLong.of(Math.max(0, init.endMillis() - init.startMillis()));
            initLogs = init.logs();
            if (init.statusCode() != 0 || !init.containerUsable()) {
                lease.release(false);
                log.debug("zone {}: init of {} failed in container {} (activation {}): {}", zone, request.actionName(),
                        container.id(), request.activationId(), init.result());
                return new RunResult(initFailureStatus(init), init.result(), init.logs(), start, init.endMillis(),
                        initMillis, init.timedOut(), zone);
            }
        }
        long remaining = Math.max(1, deadline - System.currentTimeMillis());
        Outcome run = container.run(runMessage(request, deadline), Duration.ofMillis(remaining),
                request.limits().logBytes());
        lease.release(run.containerUsable());
        if (!run.containerUsable()) {
            log.info("zone {}: container {} discarded after activation {} of {}: {}", zone, container.id(),
                    request.activationId(), request.actionName(), run.timedOut()
                            ? "timed out after " + timeoutMillis + " ms" : "not usable (" + run.result() + ")");
        }
        // The container was given what was left of the limit after init; the message names the limit itself.
        JsonNode result = run.timedOut()
                ? JsonNodeFactory.instance.objectNode().put("error", "The action exceeded its time limits of " + timeoutMillis + " milliseconds.")
                : run.result();
        return new RunResult(run.statusCode(), result, concat(initLogs, run.logs()), start, run.endMillis(),
                initMillis, run.timedOut(), zone);
    }

    // An init that fails is the action developer's error (bad code, no such main, too slow), unless the container broke.
    private static int initFailureStatus(Outcome init) {
        return init.statusCode() == STATUS_INTERNAL_ERROR ? STATUS_INTERNAL_ERROR : STATUS_DEVELOPER_ERROR;
    }

    static InitMessage initMessage(RunRequest request, long deadlineMillis) {
        Map<String, String> env = new HashMap<>(request.initEnv());
        env.put("__OW_NAMESPACE", request.namespace());
        env.put("__OW_ACTION_NAME", request.actionName());
        env.put("__OW_ACTION_VERSION", request.version());
        env.put("__OW_ACTIVATION_ID", request.activationId());
        env.put("__OW_TRANSACTION_ID", request.transactionId());
        env.put("__OW_DEADLINE", Long.toString(deadlineMillis));
        request.apiKey().ifPresent(key -> env.put("__OW_API_KEY", key));
        String code = request.code().code();
        return new InitMessage(request.actionName(), request.code().main(),
                code.isBlank() ? Optional.empty() : Optional.of(code), request.code().binary(), env);
    }

    static RunMessage runMessage(RunRequest request, long deadlineMillis) {
        // The value goes as it is, object or not: the launcher and the action decide what to make of it.
        return new RunMessage(request.value(), request.namespace(), request.actionName(), request.version(),
                request.activationId(), request.transactionId(), deadlineMillis, request.apiKey());
    }

    private static List<String> concat(List<String> a, List<String> b) {
        if (a.isEmpty()) {
            return b;
        }
        List<String> all = new ArrayList<>(a.size() + b.size());
        all.addAll(a);
        all.addAll(b);
        return all;
    }

    private RunResult internalError(String reason) {
        long now = System.currentTimeMillis();
        JsonNode result = JsonNodeFactory.instance.objectNode()
                .put("error", "Failed to start a container for the action: " + reason);
        return new RunResult(STATUS_INTERNAL_ERROR, result, List.of(), now, now, OptionalLong.empty(), false, zone);
    }

    private static String reason(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    /** The kinds this machine runs. */
    public List<String> kinds() {
        return kinds;
    }

    public PoolStats stats() {
        return pool.stats();
    }

    public String zone() {
        return zone;
    }

    @Override
    public void close() {
        pool.close();
    }
}
