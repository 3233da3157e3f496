package io.petrel.node.placement;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Lease;
import io.petrel.store.ReadConsistency;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The region's invokers, as the store knows them: every zone keeps {@code invokers/<zone>} (its
 * incarnation, where it takes placed runs, its free container memory) bound to a lease it renews
 * every 2 s (a 5 s lease); the entry is written again when the free memory changes, and at least
 * every 10 s. A zone whose lease expired is gone: its runs are lost and its acceptances are recorded
 * as such. Read from this zone's replica every second, so placement costs no store round trip.
 */
public final class InvokerDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InvokerDirectory.class);
    static final String PREFIX = "invokers/";
    public static final Duration LEASE = Duration.ofSeconds(5);

    /** One zone's invoker as last published. */
    public record Entry(String zone, String incarnation, String url, int freeMb, long updated) {
        public String id() {
            return zone + "/" + incarnation;
        }
    }

    private final Store store;
    private final ObjectMapper json;
    private final Entry self;
    private final IntSupplier freeMb;
    private final ScheduledExecutorService timer;
    private volatile Map<String, Entry> byZone = Map.of();
    private volatile long refreshedAtNanos;
    private long leaseId;
    private long ticks;
    private int publishedFreeMb = -1;
    private long publishedAtNanos;

    public InvokerDirectory(Store store, ObjectMapper json, String zone, String incarnation, String url, IntSupplier freeMb) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.self = new Entry(zone, incarnation, url, 0, 0);
        this.freeMb = requireNonNull(freeMb, "freeMb");
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("invoker-directory-" + zone).unstarted(r));
    }

    public void start() {
        timer.scheduleWithFixedDelay(this::tick, 0, 1, TimeUnit.SECONDS);
    }

    private void tick() {
        try {
            publish();
        } catch (RuntimeException e) {
            LOG.debug("zone {}: invoker entry not published: {}", self.zone(), e.toString());
        }
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.debug("zone {}: invoker directory not refreshed: {}", self.zone(), e.toString());
        }
    }

    private void publish() {
        ticks++;
        int free = freeMb.getAsInt();
        boolean fresh = false;
        if (leaseId == 0) {
            Lease lease = store.grantLease(LEASE);
            leaseId = lease.id();
            fresh = true;
            LOG.info("zone {}: invoker {} registered in the region (lease {}, {} s)", self.zone(), self.incarnation(), leaseId, LEASE.toSeconds());
        } else if (ticks % 2 == 0) {
            try {
                store.keepAlive(leaseId);
            } catch (RuntimeException e) {
                LOG.warn("zone {}: the invoker's lease {} could not be renewed ({}); registering again", self.zone(), leaseId, e.toString());
                leaseId = 0;
                throw e;
            }
        }
        if (!fresh && free == publishedFreeMb && System.nanoTime() - publishedAtNanos < TimeUnit.SECONDS.toNanos(10)) {
            return;
        }
        try {
            byte[] value = json.writeValueAsBytes(Map.of("zone", self.zone(), "incarnation", self.incarnation(), "url", self.url(),
                    "freeMb", free, "updated", System.currentTimeMillis()));
            store.put(PREFIX + self.zone(), value, Expect.any(), leaseId);
            publishedFreeMb = free;
            publishedAtNanos = System.nanoTime();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void refresh() {
        Map<String, Entry> next = new HashMap<>();
        ScanRequest request = new ScanRequest(PREFIX, "", 100, ReadConsistency.LOCAL);
        while (true) {
            ScanPage page = store.scan(request);
            for (KeyValue kv : page.items()) {
                try {
                    JsonNode n = json.readTree(kv.value());
                    Entry e = new Entry(n.path("zone").asText(), n.path("incarnation").asText(), n.path("url").asText(),
                            n.path("freeMb").asInt(), n.path("updated").asLong());
                    next.put(e.zone(), e);
                } catch (IOException e) {
                    LOG.warn("zone {}: unreadable invoker entry {}", self.zone(), kv.key());
                }
            }
            if (!page.more()) {
                break;
            }
            request = request.next(page);
        }
        byZone = Map.copyOf(next);
        refreshedAtNanos = System.nanoTime();
    }

    /** Other zones' invokers, most free memory first. */
    public List<Entry> peers() {
        return byZone.values().stream().filter(e -> !e.zone().equals(self.zone()))
                .sorted((a, b) -> Integer.compare(b.freeMb(), a.freeMb())).toList();
    }

    /**
     * Whether the zone incarnation {@code zone/incarnation} is alive; only answers once the directory
     * was read in the last 3 s (a zone that cannot read the store must not declare others dead).
     */
    public Optional<Boolean> alive(String id) {
        if (System.nanoTime() - refreshedAtNanos > TimeUnit.SECONDS.toNanos(3) || refreshedAtNanos == 0) {
            return Optional.empty();
        }
        return Optional.of(byZone.values().stream().anyMatch(e -> e.id().equals(id)));
    }

    public String selfId() {
        return self.id();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        if (leaseId != 0) {
            try {
                store.revokeLease(leaseId);
            } catch (RuntimeException e) {
                LOG.debug("zone {}: invoker lease not revoked: {}", self.zone(), e.toString());
            }
        }
    }
}
