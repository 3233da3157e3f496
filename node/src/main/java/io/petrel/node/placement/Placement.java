package io.petrel.node.placement;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.invoke.ActionRunner;
import io.petrel.store.Store;

import java.util.function.IntSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The parts of a zone that place activations across the region: the directory of invokers, the
 * runner the API uses (this zone first, then the others), and the endpoint other zones place on.
 */
public final class Placement implements AutoCloseable {
    private final InvokerDirectory directory;
    private final RegionRunner runner;
    private final InvokerEndpoint endpoint;

    public Placement(Store store, ObjectMapper json, String zone, String incarnation, String nodeUrl, ActionRunner local, IntSupplier freeMb) {
        requireNonNull(store, "store");
        PlacementSecret secret = new PlacementSecret(store);
        this.directory = new InvokerDirectory(store, json, zone, incarnation, nodeUrl, freeMb);
        this.runner = new RegionRunner(zone, local, directory, secret, json);
        this.endpoint = new InvokerEndpoint(zone, local, secret, json);
    }

    public void start() {
        directory.start();
    }

    public ActionRunner runner() {
        return runner;
    }

    public InvokerEndpoint endpoint() {
        return endpoint;
    }

    public InvokerDirectory directory() {
        return directory;
    }

    @Override
    public void close() {
        directory.close();
    }
}
