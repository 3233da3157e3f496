package io.petrel.bench;

import org.HdrHistogram.Histogram;

import static java.util.Objects.requireNonNull;

/**
 * What a closed-loop phase measured: operations completed inside the measured window, failures in
 * it, the latency of each completed operation in microseconds, and the CPU used meanwhile.
 */
record ClosedLoopResult(int clients, long ops, long errors, double seconds, Histogram latencyMicros, String firstError, CpuUse cpu,
                        TimeWindow window) {
    ClosedLoopResult {
        requireNonNull(window, "window");
        requireNonNull(latencyMicros, "latencyMicros");
        requireNonNull(cpu, "cpu");
        if (seconds <= 0) {
            throw new IllegalArgumentException("a measured window must be positive, got " + seconds);
        }
    }

    double opsPerSecond() {
        return ops / seconds;
    }

    double percentileMillis(double p) {
        return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getValueAtPercentile(p) / 1000.0;
    }
}
