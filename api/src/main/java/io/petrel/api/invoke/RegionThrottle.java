package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.store.ConflictException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Namespace throttles held region-wide without a consensus round per invocation: zones lease
 * permits from the store in chunks of a tenth of the limit shared by the zones, and spend them
 * locally.
 * <ul>
 *   <li>Per minute: {@code quota/<ns>/m/<minute>} counts the permits granted in that minute; a zone
 *       takes a chunk with one compare-and-set. The region never admits more than the limit, and the
 *       permits zones hold unused are at most a tenth of it, so it admits at least 90%.</li>
 *   <li>Concurrent: {@code quota/<ns>/c} says how many slots each zone incarnation holds; a zone
 *       takes a chunk when its own are in use and gives back what it does not need. Slots of a zone
 *       that is gone are dropped by the next zone that writes the record.</li>
 * </ul>
 */
public final class RegionThrottle implements Throttle {
    private static final Logger LOG = LoggerFactory.getLogger(RegionThrottle.class);
    private static final long LIMITS_TTL_MILLIS = 2_000;
    private static final int ZONES = 3;

    private final Store store;
    private final ObjectMapper json;
    private final String self;
    private final Predicate<String> alive;
    private final Function<String, ObjectNode> limitsOf;
    private final LongSupplier clock;
    private final Map<String, Local> locals = new ConcurrentHashMap<>();

    /**
     * @param self      this zone's {@code zone/incarnation}
     * @param alive     whether a zone incarnation is alive (its slots count)
     * @param limitsOf  a namespace's limits ({@code GET /limits} shape)
     */
    public RegionThrottle(Store store, ObjectMapper json, String self, Predicate<String> alive, Function<String, ObjectNode> limitsOf,
                          LongSupplier clock) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.self = requireNonNull(self, "self");
        this.alive = requireNonNull(alive, "alive");
        this.limitsOf = requireNonNull(limitsOf, "limitsOf");
        this.clock = requireNonNull(clock, "clock");
    }

    /**
     * One namespace's state in this zone. Store round trips are made holding {@code refill}, never the
     * object's monitor, which guards the counters only: a permit's close takes the monitor on the thread
     * that ended the activation, which may be a pool thread the store's own client needs. When an admit
     * held the monitor through a store read, closes piled up on every worker of the JVM's common pool,
     * the zone's replica, which needs that pool, stopped taking the leader's entries, and the read could
     * never finish: the zone was stuck until its requests timed out, and fell behind for good.
     */
    private static final class Local {
        final ReentrantLock refill = new ReentrantLock();
        long limitsRead = Long.MIN_VALUE;
        volatile ObjectNode limits;
        final Window invokes = new Window();
        final Window fires = new Window();
        int inFlight;
        int held;
        boolean returning;
    }

    /** Touched only while holding the namespace's {@code refill} lock. */
    private static final class Window {
        long minute = -1;
        long available;
    }

    static int chunk(long limit) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (long) Math.ceil(limit * 0.1 / ZONES)));
    }

    @Override
    public Permit admit(String namespace, Kind kind) {
        Local l = locals.computeIfAbsent(namespace, k -> new Local());
        l.refill.lock();
        try {
            long now = clock.getAsLong();
            if (now - l.limitsRead > LIMITS_TTL_MILLIS || l.limits == null) {
                l.limits = limitsOf.apply(namespace);
                l.limitsRead = now;
            }
            ObjectNode limits = l.limits;
            long perMinute = limits.path(kind == Kind.FIRE ? "firesPerMinute" : "invocationsPerMinute").asLong(60);
            takePerMinute(namespace, kind == Kind.FIRE ? "f" : "m", kind == Kind.FIRE ? l.fires : l.invokes, perMinute, now / 60_000);
            if (kind == Kind.FIRE) {
                return () -> {
                };
            }
            boolean room;
            synchronized (l) {
                room = l.inFlight < l.held;
                if (room) {
                    l.inFlight++;
                }
            }
            if (!room) {
                takeSlot(namespace, l, limits.path("concurrentInvocations").asLong(30));
            }
        } finally {
            l.refill.unlock();
        }
        return new Permit() {
            private boolean closed;

            @Override
            public void close() {
                synchronized (l) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    l.inFlight--;
                    int spare = l.held - l.inFlight;
                    int c = chunk(l.limits.path("concurrentInvocations").asLong(30));
                    if (spare > 2 * c && !l.returning) {
                        l.returning = true;
                        Thread.ofVirtual().start(() -> giveBack(namespace, l, c));
                    }
                }
            }
        };
    }

    private void takePerMinute(String ns, String what, Window w, long limit, long minute) {
        if (w.minute != minute) {
            w.minute = minute;
            w.available = 0;
        }
        if (w.available > 0) {
            w.available--;
            return;
        }
        String key = "quota/" + ns + "/" + what + "/" + minute;
        for (int attempt = 0; attempt < 20; attempt++) {
            Optional<KeyValue> kv = store.get(key);
            long granted = kv.map(v -> Long.parseLong(v.valueAsString())).orElse(0L);
            if (granted >= limit) {
                throw new ApiException(429, "Too many requests in the last minute (count: " + granted + ", allowed: " + limit + ").");
            }
            long take = Math.min(limit - granted, chunk(limit));
            List<Op> ops = new ArrayList<>();
            ops.add(new Op.Put(key, Long.toString(granted + take).getBytes(), kv.map(v -> Expect.revision(v.modRevision())).orElse(Expect.absent()), 0));
            if (kv.isEmpty()) {
                // The first grant of a minute clears the record of two minutes before: quota records never pile up.
                ops.add(new Op.Delete("quota/" + ns + "/" + what + "/" + (minute - 2), Expect.any()));
            }
            try {
                store.commit(ops);
                w.available = take - 1;
                return;
            } catch (ConflictException e) {
                // another zone took a chunk at the same time: read again
            }
        }
        throw new ApiException(503, "The namespace's throttle is contended; retry.");
    }

    /** Takes a chunk of concurrent slots from the store and one of them for the caller; with {@code l.refill} held. */
    private void takeSlot(String ns, Local l, long limit) {
        String key = "quota/" + ns + "/c";
        int c = chunk(limit);
        for (int attempt = 0; attempt < 20; attempt++) {
            int heldHere;
            int inFlightHere;
            synchronized (l) {
                heldHere = l.held;
                inFlightHere = l.inFlight;
            }
            Optional<KeyValue> kv = store.get(key);
            ObjectNode held = kv.map(this::parse).orElse(json.createObjectNode());
            long others = 0;
            for (String zone : names(held)) {
                if (zone.equals(self)) {
                    continue;
                }
                if (!alive.test(zone)) {
                    held.remove(zone);
                } else {
                    others += held.get(zone).asLong();
                }
            }
            long free = limit - others - heldHere;
            if (free <= 0) {
                throw new ApiException(429, "Too many concurrent requests in flight (count: " + (others + inFlightHere) + ", allowed: " + limit + ").");
            }
            long take = Math.min(free, c);
            held.put(self, heldHere + take);
            try {
                store.commit(List.of(new Op.Put(key, bytes(held), kv.map(v -> Expect.revision(v.modRevision())).orElse(Expect.absent()), 0)));
                synchronized (l) {
                    l.held += (int) take;
                    l.inFlight++;
                }
                return;
            } catch (ConflictException e) {
                // another zone changed its slots at the same time: read again
            }
        }
        throw new ApiException(503, "The namespace's throttle is contended; retry.");
    }

    private void giveBack(String ns, Local l, int c) {
        String key = "quota/" + ns + "/c";
        l.refill.lock();
        try {
            for (int attempt = 0; attempt < 20; attempt++) {
                int keep;
                synchronized (l) {
                    keep = Math.max(l.inFlight + c, 0);
                    if (keep >= l.held) {
                        return;
                    }
                }
                Optional<KeyValue> kv = store.get(key);
                ObjectNode held = kv.map(this::parse).orElse(json.createObjectNode());
                held.put(self, keep);
                try {
                    store.commit(List.of(new Op.Put(key, bytes(held), kv.map(v -> Expect.revision(v.modRevision())).orElse(Expect.absent()), 0)));
                    synchronized (l) {
                        l.held = keep;
                    }
                    return;
                } catch (ConflictException e) {
                    // read again
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("namespace {}: concurrent slots not given back yet: {}", ns, e.toString());
        } finally {
            synchronized (l) {
                l.returning = false;
            }
            l.refill.unlock();
        }
    }

    private static List<String> names(ObjectNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private ObjectNode parse(KeyValue kv) {
        try {
            JsonNode n = json.readTree(kv.value());
            return n instanceof ObjectNode o ? o : json.createObjectNode();
        } catch (IOException e) {
            return json.createObjectNode();
        }
    }

    private byte[] bytes(ObjectNode n) {
        try {
            return json.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
