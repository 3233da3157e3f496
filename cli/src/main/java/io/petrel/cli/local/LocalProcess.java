package io.petrel.cli.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * A process of a local region (a zone's node or a gateway): started detached (its own session,
 * output to {@code <name>.log} in its folder), found again later through {@code <name>.pid}, stopped
 * with SIGTERM or killed with SIGKILL together with everything it started.
 */
public final class LocalProcess {
    private final Path dir;
    private final String name;

    public LocalProcess(Path dir, String name) {
        this.dir = requireNonNull(dir, "dir");
        this.name = requireNonNull(name, "name");
    }

    public Path logFile() {
        return dir.resolve(name + ".log");
    }

    private Path pidFile() {
        return dir.resolve(name + ".pid");
    }

    /** The running process, if there is one (checked by pid and start time). */
    public Optional<ProcessHandle> running() {
        try {
            if (!Files.exists(pidFile())) {
                return Optional.empty();
            }
            String[] parts = Files.readString(pidFile()).trim().split("\\s+");
            long pid = Long.parseLong(parts[0]);
            Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
            if (h.isPresent() && parts.length > 1) {
                Optional<Instant> started = h.get().info().startInstant();
                if (started.isPresent() && started.get().toEpochMilli() != Long.parseLong(parts[1])) {
                    return Optional.empty(); // the pid was reused by another process
                }
            }
            return h;
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Starts {@code command} unless the process is already running; returns its process. */
    public ProcessHandle start(List<String> command) throws IOException {
        Optional<ProcessHandle> existing = running();
        if (existing.isPresent()) {
            return existing.get();
        }
        Files.createDirectories(dir);
        List<String> full = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            // Its own session: a Ctrl-C in the shell that ran `petrel up` does not reach it.
            full.add("/usr/bin/setsid");
        }
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        ProcessHandle h = p.toHandle();
        long started = h.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        Files.writeString(pidFile(), h.pid() + " " + started + "\n");
        return h;
    }

    /** SIGKILL to the process and every process it started; returns whether it was running. */
    public boolean kill() {
        Optional<ProcessHandle> h = running();
        if (h.isEmpty()) {
            return false;
        }
        List<ProcessHandle> all = new ArrayList<>(h.get().descendants().toList());
        all.add(h.get());
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : all) {
            p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
        }
        return true;
    }

    /** SIGTERM, so the process drains and shuts down cleanly; SIGKILL after {@code grace}. */
    public boolean stop(Duration grace) {
        Optional<ProcessHandle> h = running();
        if (h.isEmpty()) {
            return false;
        }
        List<ProcessHandle> children = h.get().descendants().toList();
        h.get().destroy();
        try {
            h.get().onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            kill();
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        return true;
    }

    /** Sends a signal by name ({@code STOP}, {@code CONT}) with kill(1); returns whether it was delivered. */
    public boolean signal(String signal) throws IOException, InterruptedException {
        Optional<ProcessHandle> h = running();
        if (h.isEmpty()) {
            return false;
        }
        return new ProcessBuilder("kill", "-" + signal, String.valueOf(h.get().pid())).inheritIO().start().waitFor() == 0;
    }
}
