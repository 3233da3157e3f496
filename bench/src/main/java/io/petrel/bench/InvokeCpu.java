package io.petrel.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * CPU used during a window, split by who used it: the zones' JVMs, the action containers (every
 * process below a zone JVM: the shell, bubblewrap and the interpreter), the gateways, and this
 * driver. {@link CpuMeter} counts the named processes only; a container's interpreter is a child of
 * its zone and would be missed.
 *
 * <p>A process that exits inside the window loses what it used since the start snapshot (a warm
 * container lives through a phase, so that is rare); one that starts inside it counts from zero.
 */
final class InvokeCpu {
    private final List<Long> zonePids;
    private final List<Long> gatewayPids;

    InvokeCpu(List<Long> zonePids, List<Long> gatewayPids) {
        this.zonePids = List.copyOf(requireNonNull(zonePids, "zonePids"));
        this.gatewayPids = List.copyOf(requireNonNull(gatewayPids, "gatewayPids"));
    }

    /** CPU seconds so far: per group, and per container process (by pid, so exits and starts can be told). */
    record Snapshot(double zones, double gateways, double driver, Map<Long, Double> containers, double machine) {
    }

    /**
     * CPU seconds used in a window; {@code others} is what the rest of the machine used (every CPU's busy
     * time from {@code /proc/stat} minus the servers and the driver): other people's work on a shared
     * machine shows there.
     */
    record Use(double zones, double containers, double gateways, double driver, double others) {
        static final Use NONE = new Use(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

        double servers() {
            return zones + containers + gateways;
        }
    }

    Snapshot now() {
        double zones = 0;
        Map<Long, Double> containers = new HashMap<>();
        for (long pid : zonePids) {
            Optional<ProcessHandle> zone = ProcessHandle.of(pid);
            zones += cpu(zone);
            zone.ifPresent(z -> z.descendants().forEach(d -> containers.put(d.pid(), cpu(Optional.of(d)))));
        }
        double gateways = 0;
        for (long pid : gatewayPids) {
            gateways += cpu(ProcessHandle.of(pid));
        }
        return new Snapshot(zones, gateways, cpu(Optional.of(ProcessHandle.current())), containers, machineBusySeconds());
    }

    /** Busy CPU seconds of the whole machine since boot (user, nice, system, irq, softirq, steal of /proc/stat's cpu line); NaN if unreadable. */
    static double machineBusySeconds() {
        try {
            String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return busy / 100.0; // USER_HZ: 100 on Linux
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    Use since(Snapshot start) {
        Snapshot end = now();
        double containers = 0;
        for (Map.Entry<Long, Double> e : end.containers().entrySet()) {
            containers += e.getValue() - start.containers().getOrDefault(e.getKey(), 0.0);
        }
        double zones = end.zones() - start.zones();
        double gateways = end.gateways() - start.gateways();
        double driver = end.driver() - start.driver();
        double others = Math.max(0, end.machine() - start.machine() - zones - containers - gateways - driver);
        return new Use(zones, containers, gateways, driver, others);
    }

    private static double cpu(Optional<ProcessHandle> process) {
        return process.flatMap(p -> p.info().totalCpuDuration()).map(Duration::toNanos).orElse(0L) / 1e9;
    }
}
