package io.petrel.bench;

/**
 * CPU seconds used during a measured window: by the system's server processes together, and by the
 * driver process (whose share is mostly the system's client library).
 */
record CpuUse(double serverSeconds, double clientSeconds) {
    static final CpuUse UNKNOWN = new CpuUse(Double.NaN, Double.NaN);

    /** Milliseconds of server CPU per operation. */
    double serverMillisPer(long ops) {
        return ops == 0 ? Double.NaN : serverSeconds * 1000 / ops;
    }

    double clientMillisPer(long ops) {
        return ops == 0 ? Double.NaN : clientSeconds * 1000 / ops;
    }
}
