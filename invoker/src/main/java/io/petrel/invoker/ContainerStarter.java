package io.petrel.invoker;

import io.petrel.container.ActionContainer;

import java.io.IOException;

/**
 * Starts one container process. The pool depends on this and not on the container factory itself, so
 * it can be tested without processes and so the node decides the environment every container gets.
 */
@FunctionalInterface
public interface ContainerStarter {
    /**
     * Starts a container that is not initialized yet.
     *
     * @param kind         a kind of the runtime catalog ({@code nodejs:20})
     * @param memoryMb     its memory limit
     * @param concurrency  activations it may run at once; more than 1 only for kinds that allow it
     * @throws IOException when the process could not be started
     */
    ActionContainer start(String kind, int memoryMb, int concurrency) throws IOException;
}
