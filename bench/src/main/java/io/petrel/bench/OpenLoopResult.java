package io.petrel.bench;

import org.HdrHistogram.Histogram;

import static java.util.Objects.requireNonNull;

/**
 * What a fixed-rate phase measured. Latency runs from each write's scheduled send time to its
 * acknowledgement, so a system that falls behind is charged for the queue it builds (no coordinated
 * omission). {@code dropped} writes were never sent because too many were already outstanding;
 * {@code unfinished} ones had no answer when the phase gave up waiting.
 */
record OpenLoopResult(int ratePerSecond, double seconds, long scheduled, long completed, long errors, long dropped,
                      long unfinished, Histogram latencyMicros, String firstError, CpuUse cpu, TimeWindow window) {
    OpenLoopResult {
        requireNonNull(window, "window");
        requireNonNull(latencyMicros, "latencyMicros");
        requireNonNull(cpu, "cpu");
    }

    double completedPerSecond() {
        return completed / seconds;
    }

    double percentileMillis(double p) {
        return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getValueAtPercentile(p) / 1000.0;
    }

    double maxMillis() {
        return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getMaxValue() / 1000.0;
    }

    /** Every scheduled write was sent and acknowledged without error. */
    boolean clean() {
        return errors == 0 && dropped == 0 && unfinished == 0;
    }
}
