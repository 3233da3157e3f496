package io.petrel.api.invoke;

/**
 * An action's limits as its container enforces them.
 *
 * @param timeoutMillis  time for init plus run; past it the container is killed
 * @param memoryMb       memory of the container, all its processes together
 * @param logBytes       log bytes kept per activation; more is cut with OpenWhisk's message
 * @param concurrency    activations one container may run at once (1 unless the kind allows more)
 */
public record RunLimits(int timeoutMillis, int memoryMb, long logBytes, int concurrency) {
    public RunLimits {
        if (timeoutMillis <= 0 || memoryMb <= 0 || logBytes < 0 || concurrency < 1) {
            throw new IllegalArgumentException("invalid limits: timeout " + timeoutMillis + " ms, memory " + memoryMb
                    + " MB, logs " + logBytes + " bytes, concurrency " + concurrency);
        }
    }
}
