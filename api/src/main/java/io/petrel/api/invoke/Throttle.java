package io.petrel.api.invoke;

/**
 * A namespace's rate limits (OpenWhisk's {@code invocationsPerMinute}, {@code concurrentInvocations}
 * and {@code firesPerMinute}), held region-wide.
 */
public interface Throttle {
    /** What is being admitted. */
    enum Kind { INVOKE, FIRE }

    /** Admits one invocation or fire, or throws a 429 {@link io.petrel.api.ApiException} with OpenWhisk's message. */
    Permit admit(String namespace, Kind kind);

    /** Held while the activation runs: closing it gives the concurrent slot back. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    /** No limits: for a region whose operator turned them off, and for tests of other things. */
    Throttle NONE = (ns, kind) -> () -> {
    };
}
