package io.petrel.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * An etcd cluster through jetcd: one client for every thread, as with Petrel. jetcd spreads requests
 * over the endpoints; a member that is not the leader forwards writes, and serves reads with a
 * ReadIndex round (jetcd's gets are linearizable unless asked for serializable).
 */
final class EtcdTarget implements Target {
    private final Client client;
    private final KV kv;
    private final Duration timeout;

    EtcdTarget(Client client, Duration timeout) {
        this.client = requireNonNull(client, "client");
        this.kv = client.getKVClient();
        this.timeout = requireNonNull(timeout, "timeout");
    }

    static EtcdTarget connect(List<String> endpoints, Duration timeout) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoints");
        }
        for (String e : endpoints) {
            if (!Loopback.isLoopbackUrl(e)) {
                throw new IllegalArgumentException("etcd endpoint " + e + " is not a loopback address; the benchmark only drives local systems");
            }
        }
        return new EtcdTarget(Client.builder().endpoints(endpoints.toArray(String[]::new)).build(), timeout);
    }

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public CompletableFuture<?> putAsync(String key, byte[] value) {
        return kv.put(bytes(key), ByteSequence.from(value));
    }

    @Override
    public boolean get(String key) throws Exception {
        return kv.get(bytes(key)).get(timeout.toMillis(), TimeUnit.MILLISECONDS).getCount() > 0;
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        client.close();
    }
}
