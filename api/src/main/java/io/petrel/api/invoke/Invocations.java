package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.activation.ActivationRecord;
import io.petrel.api.activation.ActivationStore;
import io.petrel.api.auth.Identity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Runs activations with OpenWhisk's semantics, for every way in (an invoke, a rule, a web action):
 * parameters by precedence, limits, sequences component by component, the activation record, and
 * the acceptance that keeps an accepted activation from vanishing. The HTTP side lives in the
 * callers; this class never blocks on an action (it hands back futures).
 */
public final class Invocations {
    private static final Logger LOG = LoggerFactory.getLogger(Invocations.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** OpenWhisk's {@code whisk.activation.payload.max}. */
    public static final long MAX_PAYLOAD_BYTES = 1024 * 1024;
    public static final String NO_CAPACITY = "The region has no capacity to run this action now: the invokers of every zone are busy. Retry later.";
    private static final String FINAL_OVERRIDE = "Request defines parameters that are not allowed (e.g., reserved properties).";

    private final String zone;
    private final Optional<ActionRunner> runner;
    private final ActivationRecorder recorder;
    private final Acceptances acceptances;
    private final Function<Target, ObjectNode> withCode;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();

    /** {@code withCode}: the action's document with its code put back from blobs (only read on a container's init). */
    public Invocations(String zone, Optional<ActionRunner> runner, ActivationRecorder recorder, Acceptances acceptances,
                       Function<Target, ObjectNode> withCode, LongSupplier clock) {
        this.zone = requireNonNull(zone, "zone");
        this.runner = requireNonNull(runner, "runner");
        this.recorder = requireNonNull(recorder, "recorder");
        this.acceptances = requireNonNull(acceptances, "acceptances");
        this.withCode = requireNonNull(withCode, "withCode");
        this.clock = requireNonNull(clock, "clock");
    }

    /**
     * One activation to start.
     *
     * @param who       the identity it runs for (subject, and the namespace that owns the record)
     * @param apiKey    the caller's {@code uuid:key}, given to the action when {@code provide-api-key} allows
     * @param cause     the activation that caused it (a sequence's, a trigger's)
     * @param topmost   whether it is a sequence invoked directly (annotation {@code topmost})
     */
    public record Request(Target target, ObjectNode params, Identity who, Optional<String> apiKey, String transactionId,
                          Optional<String> cause, boolean topmost, Optional<ArrayNode> extraAnnotations) {
        public Request {
            requireNonNull(target, "target");
            requireNonNull(params, "params");
            requireNonNull(who, "who");
            requireNonNull(apiKey, "apiKey");
            requireNonNull(transactionId, "transactionId");
            requireNonNull(cause, "cause");
            requireNonNull(extraAnnotations, "extraAnnotations");
        }
    }

    /** A started activation: its id, and its record when it ends. */
    public record Started(String activationId, CompletableFuture<ActivationRecord> done, Tracker tracker) {
    }

    public String newActivationId() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /**
     * The parameters an activation gets: package &lt; binding &lt; action &lt; request. A request may not
     * set a parameter the action defines when the action is {@code final} (400).
     */
    public static ObjectNode mergeParameters(Target t, ObjectNode request) {
        ObjectNode merged = NODES.objectNode();
        for (JsonNode layer : t.inherited()) {
            putAll(merged, layer);
        }
        ObjectNode own = NODES.objectNode();
        putAll(own, t.doc().path("parameters"));
        merged.setAll(own);
        if (t.annotation("final", false)) {
            for (Map.Entry<String, JsonNode> e : request.properties()) {
                if (merged.has(e.getKey())) {
                    throw ApiException.badRequest(FINAL_OVERRIDE);
                }
            }
        }
        merged.setAll(request);
        return merged;
    }

    private static void putAll(ObjectNode into, JsonNode parameters) {
        for (JsonNode p : parameters) {
            if (p.has("key")) {
                into.set(p.get("key").asText(), p.path("value"));
            }
        }
    }

    /** Parameters the action marks {@code init: true}: they go to its container's environment, not to each run. */
    private static Map<String, String> initEnv(Target t, ObjectNode merged) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode p : t.doc().path("parameters")) {
            if (p.path("init").asBoolean(false)) {
                String key = p.path("key").asText();
                JsonNode v = merged.has(key) ? merged.get(key) : p.path("value");
                env.put(key, v.isTextual() ? v.asText() : v.toString());
                merged.remove(key);
            }
        }
        return env;
    }

    /**
     * Whether the accepted activation's acceptance was written and whether it has finished; the two
     * are decided under one lock so that an acceptance is never written after its record.
     */
    public static final class Tracker {
        private final Acceptances.Pending pending;
        private boolean accepted;
        private boolean finished;

        Tracker(Acceptances.Pending pending) {
            this.pending = pending;
        }
    }

    /**
     * Commits the acceptance of a started activation unless it finished already (then there is nothing
     * to lose). Call before answering 202.
     */
    public void accept(Started started) {
        Tracker t = started.tracker();
        synchronized (t) {
            if (!t.finished && !t.accepted) {
                acceptances.accept(t.pending);
                t.accepted = true;
            }
        }
    }

    /**
     * Starts an activation; its record is written in the background when it ends. A caller that will
     * answer 202 calls {@link #accept} first. Throws 503 when no zone has room for it.
     */
    public Started start(Request r) {
        String id = newActivationId();
        long accepted = clock.getAsLong();
        ArrayNode annotations = baseAnnotations(r);
        Tracker tracker = new Tracker(new Acceptances.Pending(id, r.who().namespace(), r.target().name(), r.target().localPath(),
                r.who().namespace(), r.target().doc().path("version").asText("0.0.1"), accepted, annotations,
                logLimit(r.target()), r.cause()));
        Started started;
        if ("sequence".equals(r.target().kind())) {
            started = new Started(id, new CompletableFuture<>(), tracker);
            Thread.ofVirtual().name("sequence-" + id).start(() -> runSequence(r, id, accepted, started));
        } else {
            RunRequest run = runRequest(r, id, accepted);
            Optional<CompletableFuture<RunResult>> running = runner.isEmpty() ? Optional.empty() : runWaiting(runner.get(), run);
            if (running.isEmpty()) {
                throw new ApiException(503, runner.isEmpty() ? "No invokers available: this zone does not run actions." : NO_CAPACITY);
            }
            started = new Started(id, running.get().thenApply(result -> record(r, id, accepted, annotations, result)), tracker);
        }
        Started s = started;
        started.done().whenComplete((record, error) -> finish(s, record, error, r));
        return started;
    }

    private static Optional<CompletableFuture<RunResult>> runWaiting(ActionRunner runner, RunRequest run) {
        try {
            return runner.tryRunWaiting(run);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private void finish(Started started, ActivationRecord record, Throwable error, Request r) {
        Tracker t = started.tracker();
        boolean accepted;
        synchronized (t) {
            t.finished = true;
            accepted = t.accepted;
        }
        if (record == null) {
            LOG.warn("zone {}: activation {} ended without a record: {}", zone, started.activationId(), String.valueOf(error));
            return;
        }
        recorder.submit(new ActivationStore.Finished(record, logLimit(r.target()),
                accepted ? List.of(acceptances.doneOp(started.activationId())) : List.of()));
    }

    /** Records an activation that ran nothing (a trigger's), in the background like every other. */
    public void record(ActivationRecord record) {
        recorder.submit(new ActivationStore.Finished(record, 10L * 1024 * 1024, List.of()));
    }

    private static long logLimit(Target t) {
        return t.doc().path("limits").path("logs").asLong(10) * 1024 * 1024;
    }

    private RunRequest runRequest(Request r, String id, long accepted) {
        Target t = r.target();
        ObjectNode params = r.params().deepCopy();
        Map<String, String> env = initEnv(t, params);
        ObjectNode exec = (ObjectNode) t.doc().path("exec");
        JsonNode limits = t.doc().path("limits");
        // Code above 512 KiB lives in blobs; it is put back only for this request (a warm container never reads it).
        ObjectNode execWithCode = exec.has("code") ? exec : (ObjectNode) withCode.apply(t).path("exec");
        ActionCode code = new ActionCode(exec.path("kind").asText(), execWithCode.path("code").asText(""),
                exec.path("binary").asBoolean(false), exec.path("main").asText("main"));
        RunLimits runLimits = new RunLimits(limits.path("timeout").asInt(60_000), limits.path("memory").asInt(256),
                limits.path("logs").asLong(10) * 1024 * 1024, Math.max(1, limits.path("concurrency").asInt(1)));
        Optional<String> key = t.annotation("provide-api-key", true) ? r.apiKey() : Optional.empty();
        return new RunRequest(id, r.transactionId(), t.owner(), "/" + t.fullPath(), t.doc().path("version").asText("0.0.1"),
                t.revision(), code, env, params, runLimits, key, accepted);
    }

    private ArrayNode baseAnnotations(Request r) {
        Target t = r.target();
        ArrayNode a = NODES.arrayNode();
        a.addObject().put("key", "path").put("value", t.fullPath());
        a.addObject().put("key", "kind").put("value", t.kind());
        ObjectNode limits = t.doc().path("limits").isObject() ? ((ObjectNode) t.doc().get("limits")).deepCopy() : NODES.objectNode();
        a.addObject().put("key", "limits").set("value", limits);
        t.binding().ifPresent(b -> a.addObject().put("key", "binding").put("value", b));
        if (r.cause().isPresent() && !r.topmost()) {
            r.extraAnnotations().ifPresent(a::addAll);
        }
        return a;
    }

    private ActivationRecord record(Request r, String id, long accepted, ArrayNode base, RunResult result) {
        ArrayNode annotations = base.deepCopy();
        annotations.addObject().put("key", "waitTime").put("value", Math.max(0, result.startMillis() - accepted));
        annotations.addObject().put("key", "timeout").put("value", result.timedOut());
        result.initMillis().ifPresent(ms -> annotations.addObject().put("key", "initTime").put("value", ms));
        long start = Math.min(result.startMillis(), result.endMillis());
        return new ActivationRecord(r.who().namespace(), r.target().name(), r.target().localPath(), r.who().namespace(), id,
                start, result.endMillis(), r.target().doc().path("version").asText("0.0.1"), result.statusCode(), result.result(),
                annotations, result.logs(), r.cause());
    }

    private ActivationRecord failed(Request r, String id, long start, ArrayNode annotations, String message) {
        long end = Math.max(start, clock.getAsLong());
        return new ActivationRecord(r.who().namespace(), r.target().name(), r.target().localPath(), r.who().namespace(), id,
                start, end, r.target().doc().path("version").asText("0.0.1"), 3, NODES.objectNode().put("error", message),
                annotations, List.of(), r.cause());
    }

    /** Component resolution for sequences: a qualified name to the action, checked for the sequence's caller. */
    public interface Resolver {
        Target resolve(Identity who, String qualifiedName);
    }

    private volatile Resolver resolver;

    /** Set once by the API that owns entity resolution (it is built after this class). */
    public void resolveComponentsWith(Resolver r) {
        this.resolver = requireNonNull(r, "resolver");
    }

    private void runSequence(Request r, String id, long accepted, Started started) {
        CompletableFuture<ActivationRecord> done = started.done();
        List<String> componentIds = new ArrayList<>();
        ObjectNode params = r.params();
        ActivationRecord last = null;
        long start = clock.getAsLong();
        int maxMemory = 0;
        try {
            for (JsonNode c : r.target().doc().path("exec").path("components")) {
                Target component;
                try {
                    component = resolver.resolve(r.who(), c.asText());
                } catch (ApiException e) {
                    last = failed(r, newActivationId(), clock.getAsLong(), NODES.arrayNode(),
                            "Sequence component does not exist or is not accessible: " + c.asText());
                    break;
                }
                maxMemory = Math.max(maxMemory, component.doc().path("limits").path("memory").asInt(256));
                ArrayNode causedBy = NODES.arrayNode();
                causedBy.addObject().put("key", "causedBy").put("value", "sequence");
                Request step = new Request(component, mergeParameters(component, params), r.who(), r.apiKey(), r.transactionId(),
                        Optional.of(id), false, Optional.of(causedBy));
                Started s = startWithRetry(step);
                last = s.done().join();
                componentIds.add(s.activationId());
                if (!last.success()) {
                    break;
                }
                if (!last.result().isObject()) {
                    break;
                }
                params = ((ObjectNode) last.result()).deepCopy();
            }
            ArrayNode annotations = NODES.arrayNode();
            if (r.topmost()) {
                annotations.addObject().put("key", "topmost").put("value", true);
            } else {
                annotations.addObject().put("key", "causedBy").put("value", "sequence");
            }
            annotations.addObject().put("key", "path").put("value", r.target().fullPath());
            annotations.addObject().put("key", "kind").put("value", "sequence");
            ObjectNode limits = r.target().doc().path("limits").isObject() ? ((ObjectNode) r.target().doc().get("limits")).deepCopy() : NODES.objectNode();
            limits.put("memory", maxMemory == 0 ? limits.path("memory").asInt(256) : maxMemory);
            annotations.addObject().put("key", "limits").set("value", limits);
            annotations.addObject().put("key", "waitTime").put("value", 0);
            JsonNode result = last == null ? NODES.objectNode() : last.result();
            int status = last == null ? 0 : last.statusCode();
            long end = Math.max(start, last == null ? clock.getAsLong() : last.end());
            done.complete(new ActivationRecord(r.who().namespace(), r.target().name(), r.target().localPath(), r.who().namespace(), id,
                    start, end, r.target().doc().path("version").asText("0.0.1"), status, result, annotations, componentIds, r.cause()));
        } catch (RuntimeException e) {
            LOG.warn("zone {}: sequence {} ({}) failed: {}", zone, id, r.target().fullPath(), e.toString());
            done.complete(failed(r, id, start, NODES.arrayNode(), "The sequence failed: " + e.getMessage()));
        }
    }

    /** A sequence's component waits for room instead of failing the whole sequence at once. */
    private Started startWithRetry(Request step) {
        long deadline = clock.getAsLong() + 10_000;
        while (true) {
            try {
                return start(step);
            } catch (ApiException e) {
                if (e.status() != 503 || clock.getAsLong() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** OpenWhisk's HTTP status of a finished activation: 200, 502 for application and developer errors, 500 for internal ones. */
    public static int httpStatus(ActivationRecord r) {
        return switch (r.statusCode()) {
            case 0 -> 200;
            case 1, 2 -> 502;
            default -> 500;
        };
    }

}
