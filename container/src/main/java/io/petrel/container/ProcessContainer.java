package io.petrel.container;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.runtimes.RuntimeKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * A container that is one OS process tree: a runtime launcher started by {@link ContainerFactory} in its own work
 * directory, sandbox and cgroup, spoken to over stdin (requests) and fd 3 (answers), its stdout and stderr read as
 * logs. See the runtimes module's README for the action loop.
 *
 * <p>Every way an init or a run can end is an {@link Ending}, and each completes the request's future exactly
 * once: the launcher's answer, a line that is not one (the container is broken), the time limit (the container is
 * killed), or the process's exit (dead; the memory limit when the cgroup or the watchdog says so).
 *
 * <p>With {@code concurrency > 1} runs overlap and their answers are told apart by activation id; their logs are
 * not collected (the launcher writes no end markers then, so lines cannot be told apart), only drained.
 */
final class ProcessContainer implements ActionContainer, RssWatchdog.Watched, StreamPump.Sink, AnswerReader.Sink {
    private static final Logger log = LoggerFactory.getLogger(ProcessContainer.class);

    static final long MAX_RESULT_BYTES = 1_048_576;
    /**
     * How long the end markers may take after the answer, or after the last line read since (a flood is still
     * being drained), before the logs are returned without them; and how long at most in any case.
     */
    static final Duration MARKER_GRACE = Duration.ofSeconds(1);
    static final Duration MARKER_WAIT_MAX = Duration.ofSeconds(5);
    // After the process exits: time for an answer or log lines still in the pipes to be read.
    private static final Duration EXIT_DRAIN = Duration.ofMillis(500);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    // Lines printed outside any activation (at init, or by timers between runs) wait for the next one, up to this.
    private static final long BETWEEN_RUNS_LOG_LIMIT = 1 << 20;
    private static final long MIB = 1024 * 1024;
    static final String INVALID_INIT_RESPONSE = "The action failed during initialization: it did not produce a valid JSON response.";

    /** What ended an init or a run. */
    sealed interface Ending {
        /** A run's {@code {"id":…,"result":…}}. */
        record Answered(JsonNode result) implements Ending {}

        /** The launcher's {@code {"error":…}}: the code failed. */
        record Refused(String message) implements Ending {}

        /** A run's answer too large to keep; {@code resultBytes} is the size of its result. */
        record Oversized(long resultBytes) implements Ending {}

        /** An init's {@code {"ok":true}}. */
        record Ready() implements Ending {}

        /** Something on fd 3 that is not an answer of the protocol. */
        record Invalid() implements Ending {}

        record Exited(boolean memoryExhausted) implements Ending {}

        record TimedOut() implements Ending {}
    }

    /** What the factory made for this container. */
    record Parts(String id, String zone, RuntimeKind kind, int memoryMb, int concurrency, Path workDir, Path fifo,
                 Process process, Optional<ContainerCgroup> cgroup, OptionalInt uid, boolean ownSession,
                 Runnable releaseResources) {
        Parts {
            requireNonNull(id, "id");
            requireNonNull(zone, "zone");
            requireNonNull(kind, "kind");
            requireNonNull(workDir, "workDir");
            requireNonNull(fifo, "fifo");
            requireNonNull(process, "process");
            requireNonNull(cgroup, "cgroup");
            requireNonNull(uid, "uid");
            requireNonNull(releaseResources, "releaseResources");
        }
    }

    /** What containers of one factory share. */
    record Services(ObjectMapper mapper, ScheduledExecutorService scheduler, Optional<RssWatchdog> watchdog,
                    Consumer<ProcessContainer> onClosed) {
        Services {
            requireNonNull(mapper, "mapper");
            requireNonNull(scheduler, "scheduler");
            requireNonNull(watchdog, "watchdog");
            requireNonNull(onClosed, "onClosed");
        }
    }

    private final Parts parts;
    private final Services services;
    private final Process process;
    private final long startNanos = System.nanoTime();
    private final AnswerReader answers;
    private final OutputStream stdin;
    private final Object stdinLock = new Object();
    private final ReentrantLock initAndRunLock = new ReentrantLock();
    private final AtomicReference<CompletableFuture<Ending>> pendingInit = new AtomicReference<>();
    private final Map<String, CompletableFuture<Ending>> pendingRuns = new ConcurrentHashMap<>();
    private final CountDownLatch pumpsEnded = new CountDownLatch(2);
    private final AtomicBoolean closed = new AtomicBoolean();

    // Logs: guarded by logLock.
    private final Object logLock = new Object();
    private LogCollector current;
    private LogCollector between = new LogCollector(BETWEEN_RUNS_LOG_LIMIT);
    private int runsStarted;
    private final int[] markers = new int[LogStream.values().length];
    private long lastOutputNanos = System.nanoTime();

    private volatile int memoryMb;
    private volatile boolean initSent;
    private volatile boolean initialized;
    private volatile boolean initFailed;
    private volatile boolean broken;
    private volatile boolean killed;
    private volatile boolean dead;
    private volatile boolean memoryKilled;

    ProcessContainer(Parts parts, Services services) {
        this.parts = requireNonNull(parts, "parts");
        this.services = requireNonNull(services, "services");
        this.process = parts.process();
        this.memoryMb = parts.memoryMb();
        this.stdin = process.getOutputStream();
        this.answers = new AnswerReader(parts.fifo(), this);
    }

    /** Starts reading the process's streams and watching it; called once, right after the process started. */
    void start() {
        thread("stdout", new StreamPump(process.getInputStream(), LogStream.STDOUT, this));
        thread("stderr", new StreamPump(process.getErrorStream(), LogStream.STDERR, this));
        thread("answers", answers);
        process.onExit().thenRunAsync(this::exited, runnable -> Thread.ofVirtual().name("exit-" + parts.id()).start(runnable));
        services.watchdog().ifPresent(watchdog -> watchdog.watch(this));
    }

    private void thread(String name, Runnable task) {
        // Platform threads: reads of pipes pin a carrier, and a busy invoker has hundreds of containers.
        Thread.ofPlatform().daemon().stackSize(256 * 1024).name(name + "-" + parts.id()).start(task);
    }

    @Override
    public String id() {
        return parts.id();
    }

    @Override
    public String kind() {
        return parts.kind().kind();
    }

    @Override
    public int memoryMb() {
        return memoryMb;
    }

    long pid() {
        return process.pid();
    }

    Path workDir() {
        return parts.workDir();
    }

    @Override
    public void resize(int memoryMb) {
        if (memoryMb <= 0) {
            throw new IllegalArgumentException("memoryMb must be positive: " + memoryMb);
        }
        ensureOpen();
        initAndRunLock.lock();
        try {
            if (initSent) {
                throw new IllegalStateException("container " + parts.id() + " is initialized: its memory limit is fixed");
            }
            if (parts.cgroup().isPresent()) {
                parts.cgroup().get().limitMemory(memoryMb * MIB);
            }
            int before = this.memoryMb;
            this.memoryMb = memoryMb;
            log.info("zone={} container={} resized memoryMb={} (was {})", parts.zone(), parts.id(), memoryMb, before);
        }
        catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot set the memory limit of container " + parts.id(), e);
        }
        finally {
            initAndRunLock.unlock();
        }
    }

    @Override
    public Outcome init(InitMessage init, Duration timeout) {
        requireNonNull(init, "init");
        requireNonNull(timeout, "timeout");
        ensureOpen();
        initAndRunLock.lock();
        try {
            long start = System.currentTimeMillis();
            byte[] line;
            try {
                line = initLine(init);
            }
            catch (ActionArchive.InvalidArchiveException e) {
                initFailed = !initialized;
                log.info("zone={} container={} init refused: {}", parts.zone(), parts.id(), e.getMessage());
                return outcome(2, error(e.getMessage()), List.of(), start, false, usable());
            }
            catch (IOException e) {
                initFailed = !initialized;
                log.warn("zone={} container={} cannot prepare the action's code: {}", parts.zone(), parts.id(), e.toString());
                return outcome(3, error("The action's code could not be prepared: " + e.getMessage()), List.of(), start, false, false);
            }
            CompletableFuture<Ending> pending = new CompletableFuture<>();
            pendingInit.set(pending);
            if (dead) {
                pending.complete(new Ending.Exited(memoryExhausted()));
            }
            boolean first = !initialized;
            Ending ending = exchange(line, pending, timeout);
            pendingInit.compareAndSet(pending, null);
            return initOutcome(ending, first, start, timeout);
        }
        finally {
            initAndRunLock.unlock();
        }
    }

    private Outcome initOutcome(Ending ending, boolean first, long start, Duration timeout) {
        if (ending instanceof Ending.Ready) {
            initialized = true;
            log.info("zone={} container={} initialized in {} ms, {} ms after its start", parts.zone(), parts.id(),
                    System.currentTimeMillis() - start, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
            // What the code printed while loading stays for the first activation's logs, as in OpenWhisk.
            return outcome(0, services.mapper().createObjectNode(), List.of(), start, false, usable());
        }
        if (ending instanceof Ending.Exited || ending instanceof Ending.TimedOut) {
            awaitPumps();
        }
        // A failed init is reported with what the code printed (a stack trace, most often): it has no activation after
        // it. A refused second init leaves what was printed since the last run to the next one.
        List<String> logs = first ? takeLogsBetweenRuns() : List.of();
        return switch (ending) {
            case Ending.Refused refused -> {
                // A code that does not load leaves the container useless; a refused second init changes nothing.
                initFailed |= first;
                yield outcome(2, error(refused.message()), logs, start, false, usable());
            }
            case Ending.TimedOut timedOut -> outcome(2, error(Messages.timedOut(timeout.toMillis(), true)), logs, start, true, false);
            case Ending.Exited exited -> {
                log.info("zone={} container={} exited during init; its last lines: {}", parts.zone(), parts.id(),
                        logs.subList(Math.max(0, logs.size() - 5), logs.size()));
                yield outcome(2, error(exited.memoryExhausted() ? Messages.MEMORY_EXHAUSTED : Messages.ABNORMAL_INIT), logs, start, false, false);
            }
            case Ending.Invalid invalid -> {
                broken = true;
                yield outcome(2, error(INVALID_INIT_RESPONSE), logs, start, false, false);
            }
            case Ending.Ready ready -> throw new IllegalStateException("handled above");
            case Ending.Answered answered -> outcome(2, error(INVALID_INIT_RESPONSE), logs, start, false, usable());
            case Ending.Oversized oversized -> outcome(2, error(INVALID_INIT_RESPONSE), logs, start, false, usable());
        };
    }

    private List<String> takeLogsBetweenRuns() {
        if (parts.concurrency() > 1) {
            return List.of();
        }
        synchronized (logLock) {
            LogCollector taken = between;
            between = new LogCollector(BETWEEN_RUNS_LOG_LIMIT);
            return taken.finish(false);
        }
    }

    @Override
    public Outcome run(RunMessage run, Duration timeout, long logLimitBytes) {
        requireNonNull(run, "run");
        requireNonNull(timeout, "timeout");
        if (logLimitBytes < 0) {
            throw new IllegalArgumentException("logLimitBytes must not be negative: " + logLimitBytes);
        }
        ensureOpen();
        if (!initialized) {
            throw new IllegalStateException("container " + parts.id() + " was not initialized");
        }
        if (parts.concurrency() > 1) {
            return runOnce(run, timeout, logLimitBytes);
        }
        initAndRunLock.lock();
        try {
            return runOnce(run, timeout, logLimitBytes);
        }
        finally {
            initAndRunLock.unlock();
        }
    }

    private Outcome runOnce(RunMessage run, Duration timeout, long logLimitBytes) {
        long start = System.currentTimeMillis();
        byte[] line = runLine(run);
        CompletableFuture<Ending> pending = new CompletableFuture<>();
        if (pendingRuns.putIfAbsent(run.activationId(), pending) != null) {
            throw new IllegalArgumentException("activation " + run.activationId() + " already runs in container " + parts.id());
        }
        LogCollector logs = null;
        int runIndex = 0;
        if (parts.concurrency() == 1) {
            synchronized (logLock) {
                runIndex = ++runsStarted;
                logs = new LogCollector(logLimitBytes);
                logs.carryOver(between);
                between = new LogCollector(BETWEEN_RUNS_LOG_LIMIT);
                current = logs;
            }
        }
        if (broken) {
            pending.complete(new Ending.Invalid());
        }
        if (dead) {
            pending.complete(new Ending.Exited(memoryExhausted()));
        }
        Ending ending = exchange(line, pending, timeout);
        pendingRuns.remove(run.activationId(), pending);
        List<String> lines = logs == null ? List.of() : finishLogs(logs, runIndex, ending);
        return runOutcome(ending, lines, start, timeout);
    }

    /** Sends a request and waits for whatever ends it; the time limit kills the container. */
    private Ending exchange(byte[] line, CompletableFuture<Ending> pending, Duration timeout) {
        ScheduledFuture<?> timer = services.scheduler().schedule(() -> timeUp(pending), timeout.toNanos(), TimeUnit.NANOSECONDS);
        try {
            if (!pending.isDone()) {
                send(line);
            }
            return pending.join();
        }
        finally {
            timer.cancel(false);
        }
    }

    private void send(byte[] line) {
        try {
            synchronized (stdinLock) {
                stdin.write(line);
                stdin.flush();
            }
        }
        catch (IOException e) {
            // The launcher stopped reading: it is gone or going, and its exit (or the time limit) ends the request.
            if (process.isAlive()) {
                log.warn("zone={} container={} does not take requests ({}): killing it", parts.zone(), parts.id(), e.toString());
                killed = true;
                killProcesses();
            }
        }
    }

    private void timeUp(CompletableFuture<Ending> pending) {
        if (pending.isDone()) {
            return;
        }
        killed = true;
        if (pending.complete(new Ending.TimedOut())) {
            log.info("zone={} container={} timed out: killing it", parts.zone(), parts.id());
        }
        Thread.ofVirtual().name("kill-" + parts.id()).start(this::killProcesses);
    }

    private Outcome runOutcome(Ending ending, List<String> logs, long start, Duration timeout) {
        return switch (ending) {
            case Ending.Answered answered -> {
                JsonNode result = answered.result();
                if (!result.isObject() && !result.isArray()) {
                    yield outcome(2, error(Messages.INVALID_RUN_RESPONSE), logs, start, false, usable());
                }
                long size = jsonBytes(result);
                if (size > MAX_RESULT_BYTES) {
                    yield outcome(1, error(Messages.truncatedResponse(size, MAX_RESULT_BYTES)), logs, start, false, usable());
                }
                yield outcome(result.isObject() && result.has("error") ? 1 : 0, result, logs, start, false, usable());
            }
            case Ending.Refused refused -> outcome(2, error(refused.message()), logs, start, false, usable());
            case Ending.Oversized oversized ->
                    outcome(1, error(Messages.truncatedResponse(oversized.resultBytes(), MAX_RESULT_BYTES)), logs, start, false, usable());
            case Ending.TimedOut timedOut -> outcome(2, error(Messages.timedOut(timeout.toMillis(), false)), logs, start, true, false);
            case Ending.Exited exited ->
                    outcome(2, error(exited.memoryExhausted() ? Messages.MEMORY_EXHAUSTED : Messages.ABNORMAL_RUN), logs, start, false, false);
            case Ending.Invalid invalid -> outcome(2, error(Messages.INVALID_RUN_RESPONSE), logs, start, false, false);
            case Ending.Ready ready -> outcome(2, error(Messages.INVALID_RUN_RESPONSE), logs, start, false, false);
        };
    }

    private Outcome outcome(int status, JsonNode result, List<String> logs, long start, boolean timedOut, boolean usable) {
        return new Outcome(status, result, logs, start, System.currentTimeMillis(), timedOut, usable);
    }

    private ObjectNode error(String message) {
        return services.mapper().createObjectNode().put("error", message);
    }

    private long jsonBytes(JsonNode node) {
        try {
            return services.mapper().writeValueAsBytes(node).length;
        }
        catch (IOException e) {
            throw new IllegalStateException("a parsed JSON value could not be written", e);
        }
    }

    // --- logs --------------------------------------------------------------------------------------------------

    private List<String> finishLogs(LogCollector logs, int runIndex, Ending ending) {
        boolean answered = ending instanceof Ending.Answered || ending instanceof Ending.Refused || ending instanceof Ending.Oversized;
        boolean complete = true;
        if (answered) {
            complete = awaitMarkers(runIndex);
        }
        else if (!(ending instanceof Ending.Invalid)) {
            // Killed or exited: what it printed last (a stack trace, say) is still in the pipes.
            awaitPumps();
        }
        synchronized (logLock) {
            if (current == logs) {
                current = null;
            }
        }
        return logs.finish(!complete);
    }

    private boolean awaitMarkers(int runIndex) {
        long answered = System.nanoTime();
        long latest = answered + MARKER_WAIT_MAX.toNanos();
        synchronized (logLock) {
            while (markers[LogStream.STDOUT.ordinal()] < runIndex || markers[LogStream.STDERR.ordinal()] < runIndex) {
                long quietSince = lastOutputNanos - answered > 0 ? lastOutputNanos : answered;
                long left = Math.min(quietSince + MARKER_GRACE.toNanos(), latest) - System.nanoTime();
                if (left <= 0 || pumpsEnded.getCount() == 0) {
                    log.info("zone={} container={} end markers of activation {} missing {} ms after its answer", parts.zone(),
                            parts.id(), runIndex, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answered));
                    return false;
                }
                try {
                    logLock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    private void awaitPumps() {
        try {
            pumpsEnded.await(EXIT_DRAIN.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void line(LogStream stream, byte[] bytes, int offset, int length) {
        if (parts.concurrency() > 1) {
            return;
        }
        synchronized (logLock) {
            lastOutputNanos = System.nanoTime();
            int seen = markers[stream.ordinal()];
            LogCollector target;
            if (current != null && seen == runsStarted - 1) {
                target = current;
            }
            else if (seen >= runsStarted) {
                target = between;
            }
            else {
                return; // the tail of an activation whose end marker came too late: it was already reported
            }
            if (target.accepting()) {
                String text = new String(bytes, offset, length, StandardCharsets.UTF_8);
                target.add(LogCollector.format(Instant.now(), stream, text), length);
            }
        }
    }

    @Override
    public void marker(LogStream stream) {
        synchronized (logLock) {
            markers[stream.ordinal()]++;
            logLock.notifyAll();
        }
    }

    @Override
    public void ended(LogStream stream) {
        pumpsEnded.countDown();
        synchronized (logLock) {
            logLock.notifyAll();
        }
    }

    // --- answers -----------------------------------------------------------------------------------------------

    @Override
    public void answer(AnswerReader.Line line) {
        if (!line.complete()) {
            oversized(line);
            return;
        }
        JsonNode node;
        try {
            node = services.mapper().readTree(line.bytes());
        }
        catch (IOException e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            protocolError("a line that is not a JSON object");
            return;
        }
        JsonNode id = node.get("id");
        if (id != null && id.isTextual()) {
            CompletableFuture<Ending> pending = pendingRuns.get(id.asText());
            if (pending == null) {
                protocolError("an answer for activation " + id.asText() + ", which it was not running");
                return;
            }
            if (node.has("result")) {
                pending.complete(new Ending.Answered(node.get("result")));
            }
            else if (node.has("error")) {
                pending.complete(new Ending.Refused(text(node.get("error"))));
            }
            else {
                protocolError("an answer without result or error");
            }
            return;
        }
        CompletableFuture<Ending> init = pendingInit.get();
        if (init == null) {
            protocolError("an answer nobody asked for");
            return;
        }
        if (node.path("ok").asBoolean(false)) {
            init.complete(new Ending.Ready());
        }
        else if (node.has("error")) {
            init.complete(new Ending.Refused(text(node.get("error"))));
        }
        else {
            protocolError("an init answer without ok or error");
        }
    }

    @Override
    public void ended() {
        // fd 3 closed: nothing more will be answered. The process's exit (which follows) fails what is pending.
    }

    private void oversized(AnswerReader.Line line) {
        String id = null;
        long resultStart = -1;
        try (JsonParser parser = new JsonFactory().createParser(line.bytes())) {
            if (parser.nextToken() == JsonToken.START_OBJECT) {
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String field = parser.currentName();
                    JsonToken value = parser.nextToken();
                    if (field.equals("id") && value == JsonToken.VALUE_STRING) {
                        id = parser.getText();
                    }
                    else if (field.equals("result") || field.equals("error")) {
                        resultStart = parser.currentTokenLocation().getByteOffset();
                        break;
                    }
                    else {
                        parser.skipChildren();
                    }
                }
            }
        }
        catch (IOException e) {
            // The kept part ends in the middle of the value: what we have is all we need.
        }
        CompletableFuture<Ending> pending = id == null ? null : pendingRuns.get(id);
        if (pending == null && id == null && pendingRuns.size() == 1) {
            pending = pendingRuns.values().iterator().next();
        }
        if (pending == null || resultStart < 0) {
            protocolError("an over-long line that is not an answer");
            return;
        }
        // The value runs from its first byte to the object's closing brace.
        pending.complete(new Ending.Oversized(line.totalBytes() - resultStart - 1));
    }

    private void protocolError(String what) {
        if (!broken) {
            log.warn("zone={} container={} broke the action protocol: {}", parts.zone(), parts.id(), what);
        }
        broken = true;
        failPending(new Ending.Invalid());
    }

    private void failPending(Ending ending) {
        CompletableFuture<Ending> init = pendingInit.get();
        if (init != null) {
            init.complete(ending);
        }
        pendingRuns.values().forEach(pending -> pending.complete(ending));
    }

    private static String text(JsonNode node) {
        return node.isTextual() ? node.asText() : node.toString();
    }

    // --- messages ----------------------------------------------------------------------------------------------

    private byte[] initLine(InitMessage init) throws IOException, ActionArchive.InvalidArchiveException {
        ObjectNode body = services.mapper().createObjectNode();
        body.put("name", init.name());
        body.put("main", init.main());
        body.putNull("code");
        body.putNull("path");
        // A second init is only forwarded to be refused: the code of the first one stays as it is.
        if (init.code().isPresent() && !initSent) {
            if (init.binary()) {
                body.put("path", unpack(ActionArchive.decode(init.code().get())).toString());
            }
            else {
                body.put("code", init.code().get());
            }
        }
        ObjectNode env = body.putObject("env");
        init.env().forEach(env::put);
        initSent = true;
        return line(services.mapper().createObjectNode().set("init", body));
    }

    private Path unpack(byte[] archive) throws IOException, ActionArchive.InvalidArchiveException {
        Path target;
        if (parts.kind().family().equals("java")) {
            target = parts.workDir().resolve("action.jar");
            Files.write(target, archive);
        }
        else {
            target = parts.workDir().resolve("action");
            ActionArchive.unzip(archive, target);
        }
        if (parts.uid().isPresent()) {
            chownTree(target, parts.uid().getAsInt());
        }
        return target;
    }

    private byte[] runLine(RunMessage run) {
        ObjectNode body = services.mapper().createObjectNode();
        body.set("value", run.value());
        body.put("namespace", run.namespace());
        body.put("action_name", run.actionName());
        body.put("action_version", run.actionVersion());
        body.put("activation_id", run.activationId());
        body.put("transaction_id", run.transactionId());
        // OpenWhisk sends the deadline as a string of epoch milliseconds.
        body.put("deadline", Long.toString(run.deadlineMillis()));
        run.apiKey().ifPresent(key -> body.put("api_key", key));
        return line(services.mapper().createObjectNode().set("run", body));
    }

    private byte[] line(JsonNode message) {
        try {
            // Compact JSON never contains a raw newline: one message is one line.
            byte[] json = services.mapper().writeValueAsBytes(message);
            byte[] line = new byte[json.length + 1];
            System.arraycopy(json, 0, line, 0, json.length);
            line[json.length] = '\n';
            return line;
        }
        catch (IOException e) {
            throw new IllegalStateException("a JSON message could not be written", e);
        }
    }

    // --- life and death ----------------------------------------------------------------------------------------

    @Override
    public boolean usable() {
        return !closed.get() && !dead && !broken && !killed && !initFailed;
    }

    private boolean memoryExhausted() {
        return memoryKilled || parts.cgroup().map(cgroup -> cgroup.oomKills() > 0).orElse(false);
    }

    @Override
    public Set<Long> members(List<ProcTable.Proc> table) {
        return ProcTable.members(table, process.pid(), parts.uid(), parts.ownSession());
    }

    @Override
    public long memoryLimitBytes() {
        return memoryMb * MIB;
    }

    @Override
    public void memoryExceeded(long rssBytes) {
        if (memoryKilled || dead) {
            return;
        }
        memoryKilled = true;
        log.info("zone={} container={} holds {} MiB, over its limit of {} MiB: killing it", parts.zone(), parts.id(),
                rssBytes / MIB, memoryMb);
        // Not on the watchdog's thread: it watches every other container meanwhile.
        Thread.ofVirtual().name("kill-" + parts.id()).start(this::killProcesses);
    }

    private void exited() {
        dead = true;
        killProcesses(); // what it started must not outlive it
        answers.unblock();
        answers.awaitEnd(EXIT_DRAIN);
        boolean memory = memoryExhausted();
        if (closed.get()) {
            log.debug("zone={} container={} exited status={} (closing)", parts.zone(), parts.id(), process.exitValue());
        }
        else {
            log.info("zone={} container={} exited status={} memoryExhausted={}", parts.zone(), parts.id(), process.exitValue(), memory);
        }
        failPending(new Ending.Exited(memory));
        services.watchdog().ifPresent(watchdog -> watchdog.unwatch(this));
    }

    /** Kills every process of the container until none is left (bounded: a process stuck in the kernel may linger). */
    void killProcesses() {
        parts.cgroup().ifPresent(cgroup -> {
            cgroup.stopForks();
            cgroup.killAll();
        });
        long self = ProcessHandle.current().pid();
        for (int attempt = 0; attempt < 200; attempt++) {
            Set<Long> pids = new HashSet<>();
            parts.cgroup().ifPresent(cgroup -> pids.addAll(cgroup.pids()));
            if (process.isAlive()) {
                pids.add(process.pid());
            }
            process.descendants().forEach(handle -> pids.add(handle.pid()));
            if (parts.cgroup().isEmpty() && (parts.uid().isPresent() || parts.ownSession())) {
                pids.addAll(members(ProcTable.snapshot()));
            }
            pids.remove(self);
            pids.removeIf(pid -> !ProcTable.running(pid));
            if (pids.isEmpty()) {
                return;
            }
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            sleep(attempt < 10 ? 5 : 20);
        }
        log.warn("zone={} container={} still has processes after being killed", parts.zone(), parts.id());
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        services.watchdog().ifPresent(watchdog -> watchdog.unwatch(this));
        killProcesses();
        try {
            stdin.close();
        }
        catch (IOException e) {
            // Already broken.
        }
        try {
            if (!process.waitFor(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("zone={} container={} did not exit within {} ms of being killed", parts.zone(), parts.id(), CLOSE_WAIT.toMillis());
            }
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        answers.unblock();
        answers.awaitEnd(EXIT_DRAIN);
        failPending(new Ending.Exited(memoryExhausted()));
        parts.cgroup().ifPresent(cgroup -> {
            if (!cgroup.remove()) {
                killProcesses();
                if (!cgroup.remove()) {
                    log.warn("zone={} container={} cgroup {} could not be removed", parts.zone(), parts.id(), cgroup.memoryDir());
                }
            }
        });
        try {
            deleteTree(parts.workDir());
        }
        catch (IOException e) {
            log.warn("zone={} container={} work directory {} could not be removed: {}", parts.zone(), parts.id(), parts.workDir(), e.toString());
        }
        parts.releaseResources().run();
        services.onClosed().accept(this);
        log.info("zone={} container={} closed", parts.zone(), parts.id());
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("container " + parts.id() + " is closed");
        }
    }

    @Override
    public String toString() {
        return "container " + parts.id() + " (" + parts.kind().kind() + ", " + memoryMb + " MB, zone " + parts.zone() + ")";
    }

    static void chownTree(Path root, int uid) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                // An action may have taken its own permissions away; as its owner we can give them back.
                try {
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                }
                catch (IOException e) {
                    // Root does not need them.
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                if (e instanceof AccessDeniedException) {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
