package io.petrel.cli.local;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** A zone's node as an OS process ({@code node.log}, {@code node.pid} in the zone's folder). */
public final class ZoneProcess {
    private final ZoneSpec zone;
    private final NodeLauncher launcher;
    private final LocalProcess process;

    public ZoneProcess(ZoneSpec zone, NodeLauncher launcher) {
        this.zone = requireNonNull(zone, "zone");
        this.launcher = requireNonNull(launcher, "launcher");
        this.process = new LocalProcess(zone.dataDir(), "node");
    }

    public Path logFile() {
        return process.logFile();
    }

    public Optional<ProcessHandle> running() {
        return process.running();
    }

    /** Starts the zone's node unless it is already running; returns its process. */
    public ProcessHandle start(Path configFile) throws IOException {
        return process.start(launcher.nodeCommand(configFile, zone));
    }

    /** SIGKILL to the node and every process it started; returns whether it was running. */
    public boolean kill() {
        return process.kill();
    }

    /** SIGTERM, so the node leaves the rotation and shuts down cleanly; SIGKILL after {@code grace}. */
    public boolean stop(Duration grace) {
        return process.stop(grace);
    }

    /** SIGSTOP or SIGCONT: freeze the zone (it keeps its sockets but answers nothing) or thaw it. */
    public boolean signal(String signal) throws IOException, InterruptedException {
        return process.signal(signal);
    }

    public ZoneSpec zone() {
        return zone;
    }
}
