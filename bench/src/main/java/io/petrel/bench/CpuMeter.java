package io.petrel.bench;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * CPU time used by a system's server processes and by this driver. On two cores the systems compete
 * with each other's processes and with the driver for the same CPU, so CPU per operation explains
 * throughput better than the rate alone.
 */
final class CpuMeter {
    /** Measures nothing: for a system whose processes are not known. */
    static final CpuMeter NONE = new CpuMeter(List.of());

    private final List<Long> serverPids;
    /** Whether each server's child processes count too (PostgreSQL serves each connection in a process of its own). */
    private final boolean withChildren;

    CpuMeter(List<Long> serverPids) {
        this(serverPids, false);
    }

    CpuMeter(List<Long> serverPids, boolean withChildren) {
        this.serverPids = List.copyOf(requireNonNull(serverPids, "serverPids"));
        this.withChildren = withChildren;
    }

    /** CPU seconds used so far. */
    record Snapshot(double server, double client) {
    }

    boolean measuresServers() {
        return !serverPids.isEmpty();
    }

    Snapshot now() {
        double server = 0;
        for (long pid : serverPids) {
            Optional<ProcessHandle> p = ProcessHandle.of(pid);
            server += cpuSeconds(p);
            if (withChildren && p.isPresent()) {
                // A child that exits during the window takes its CPU along; the benchmark's connections live throughout.
                server += p.get().descendants().mapToDouble(c -> cpuSeconds(Optional.of(c))).sum();
            }
        }
        return new Snapshot(server, cpuSeconds(Optional.of(ProcessHandle.current())));
    }

    /** CPU used since {@code start}: server seconds are NaN when the servers are not known. */
    CpuUse since(Snapshot start) {
        Snapshot end = now();
        return new CpuUse(measuresServers() ? end.server() - start.server() : Double.NaN, end.client() - start.client());
    }

    private static double cpuSeconds(Optional<ProcessHandle> process) {
        // A process that has gone counts as 0 from then on; the phase's errors will say why.
        return process.flatMap(p -> p.info().totalCpuDuration()).map(Duration::toNanos).orElse(0L) / 1e9;
    }
}
