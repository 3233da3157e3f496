package io.petrel.bench;

import io.petrel.store.Expect;
import io.petrel.store.postgres.PostgresConfig;
import io.petrel.store.postgres.PostgresStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.util.Objects.requireNonNull;

/**
 * Petrel's store on PostgreSQL, driven in this process: one {@link PostgresStore} (its connection pool shared by
 * every client thread), as each zone of a region on PostgreSQL holds one. Its calls block, so asynchronous puts
 * run on a pool of threads as large as the benchmark's largest number of clients.
 */
final class PostgresTarget implements Target {
    private final PostgresStore store;
    private final ExecutorService callers;
    private final String description;

    private PostgresTarget(PostgresStore store, ExecutorService callers, String description) {
        this.store = requireNonNull(store, "store");
        this.callers = requireNonNull(callers, "callers");
        this.description = requireNonNull(description, "description");
    }

    static PostgresTarget connect(String url, String user, Optional<Path> passwordFile, int poolSize, int threads) throws IOException {
        Optional<String> password = passwordFile.isPresent() ? Optional.of(Files.readString(passwordFile.get()).strip()) : Optional.empty();
        PostgresConfig d = PostgresConfig.of(url, user, password);
        PostgresConfig config = new PostgresConfig(url, user, password, poolSize, d.acquireTimeout(), d.socketTimeout(),
                d.changeRetention(), d.changeRetentionRevisions());
        for (String host : config.where().replaceFirst("/.*", "").split(",")) {
            if (!Loopback.isLoopbackHost(host.substring(0, host.lastIndexOf(':') < 0 ? host.length() : host.lastIndexOf(':')))) {
                throw new IllegalArgumentException("PostgreSQL host " + host + " is not a loopback address; the benchmark only drives local systems");
            }
        }
        PostgresStore store = PostgresStore.open(config, Duration.ofSeconds(60));
        ExecutorService callers = Executors.newFixedThreadPool(threads, r -> Thread.ofPlatform().daemon().name("bench-postgres").unstarted(r));
        return new PostgresTarget(store, callers, "PostgreSQL at " + config.where() + " (pool of " + poolSize + ")");
    }

    @Override
    public String name() {
        return "Petrel-PostgreSQL";
    }

    String description() {
        return description;
    }

    @Override
    public CompletableFuture<?> putAsync(String key, byte[] value) {
        return CompletableFuture.supplyAsync(() -> store.put(key, value, Expect.any()), callers);
    }

    @Override
    public boolean get(String key) {
        return store.get(key).isPresent();
    }

    @Override
    public void close() {
        callers.shutdownNow();
        store.close();
    }
}
