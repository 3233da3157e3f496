package io.petrel.api.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.Prefixes;
import io.petrel.store.Expect;
import io.petrel.store.Lease;
import io.petrel.store.Op;
import io.petrel.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Makes writes idempotent by {@code X-Request-ID}: the answer to a write is stored
 * ({@code req/<ns>/<request id>}) in the same transaction as the write, so a retry of that request
 * (a gateway retrying on another zone after the first one died mid-request) gets the stored answer
 * instead of applying twice. Entries live 10 to 20 minutes: they are bound to a store lease that is
 * replaced when less than half of it is left.
 */
public final class RequestLog {
    static final String PREFIX = "req/";
    private static final Duration LEASE_TTL = Duration.ofMinutes(20);
    private static final int MAX_ANSWER_BYTES = 256 * 1024;

    private final Store store;
    private final ObjectMapper json;
    private final LongSupplier clock;
    private volatile TimedLease lease;

    private record TimedLease(long id, long expiresAt) {
    }

    /** A stored answer. */
    public record Replay(int status, JsonNode body) {
    }

    public RequestLog(Store store, ObjectMapper json, LongSupplier clock) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.clock = requireNonNull(clock, "clock");
    }

    private static String key(String ns, String requestId) {
        return PREFIX + ns + "/" + requestId;
    }

    public Optional<Replay> find(String ns, String requestId) {
        return store.get(key(ns, requestId)).map(kv -> {
            try {
                JsonNode n = json.readTree(kv.value());
                return new Replay(n.path("status").asInt(200), n.get("body"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The op recording {@code body} as the answer to the caller's request, if the client gave a request id. */
    public List<Op> recordOps(Call call, int status, JsonNode body) {
        Optional<String> id = call.exchange().clientRequestId();
        if (id.isEmpty()) {
            return List.of();
        }
        ObjectNode entry = json.createObjectNode().put("status", status).set("body", body);
        try {
            byte[] bytes = json.writeValueAsBytes(entry);
            if ((bytes.length > MAX_ANSWER_BYTES || body.path("exec").has("codeBlob")) && body.path("exec").isObject()) {
                // Large action code is not kept twice: a retry's answer carries the action without it.
                ObjectNode lean = body.deepCopy();
                ((ObjectNode) lean.get("exec")).remove(List.of("code", "codeBlob"));
                bytes = json.writeValueAsBytes(json.createObjectNode().put("status", status).set("body", lean));
            }
            return List.of(new Op.Put(key(call.namespace(), id.get()), bytes, Expect.absent(), leaseId()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Forgets the namespace's stored answers. */
    public void deleteNamespace(String ns) {
        Prefixes.deleteAll(store, PREFIX + ns + "/");
    }

    private long leaseId() {
        long now = clock.getAsLong();
        TimedLease l = lease;
        if (l == null || l.expiresAt() - now < LEASE_TTL.toMillis() / 2) {
            synchronized (this) {
                l = lease;
                if (l == null || l.expiresAt() - now < LEASE_TTL.toMillis() / 2) {
                    Lease granted = store.grantLease(LEASE_TTL);
                    l = new TimedLease(granted.id(), now + granted.ttlMillis());
                    lease = l;
                }
            }
        }
        return l.id();
    }
}
