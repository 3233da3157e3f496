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
 * A zone as an OS process: started detached (its own session, output to {@code node.log} in its
 * folder), found again later through {@code node.pid}, stopped with SIGTERM or killed with SIGKILL
 * together with everything it started.
 */
public final class ZoneProcess {
    private final ZoneSpec zone;
    private final NodeLauncher launcher;

    public ZoneProcess(ZoneSpec zone, NodeLauncher launcher) {
        this.zone = requireNonNull(zone, "zone");
        this.launcher = requireNonNull(launcher, "launcher");
    }

    public Path logFile() {
        return zone.dataDir().resolve("node.log");
    }

    private Path pidFile() {
        return zone.dataDir().resolve("node.pid");
    }

    /** The running node process of this zone, if there is one (checked by pid and start time). */
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

    /** Starts the zone's node unless it is already running; returns its process. */
    public ProcessHandle start(Path configFile) throws IOException {
        Optional<ProcessHandle> existing = running();
        if (existing.isPresent()) {
            return existing.get();
        }
        Files.createDirectories(zone.dataDir());
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            // Its own session: a Ctrl-C in the shell that ran `petrel up` does not reach the zones.
            command.add("/usr/bin/setsid");
        }
        command.addAll(launcher.nodeCommand(configFile, zone));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        ProcessHandle h = p.toHandle();
        long started = h.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        Files.writeString(pidFile(), h.pid() + " " + started + "\n");
        return h;
    }

    /** SIGKILL to the node and every process it started; returns whether it was running. */
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

    /** SIGTERM, so the node leaves the rotation and shuts down cleanly; SIGKILL after {@code grace}. */
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

    public ZoneSpec zone() {
        return zone;
    }
}
