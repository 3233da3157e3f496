package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.activation.ActivationRecord;
import io.petrel.api.activation.ActivationStore;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Op;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Accepted activations that have not finished yet, so that none can vanish: a non-blocking
 * invocation's acceptance is committed before its 202 ({@code accept/<zone>/<incarnation>/<id>}),
 * and deleted in the commit that records the finished activation. When a zone is lost (its invoker's
 * lease expired), any zone turns that zone's acceptances into records that say so.
 */
public final class Acceptances {
    private static final Logger LOG = LoggerFactory.getLogger(Acceptances.class);
    static final String PREFIX = "accept/";

    private final Store store;
    private final ObjectMapper json;
    private final String zone;
    private final String incarnation;

    /** {@code incarnation}: this zone process's own id, so a restarted zone's old acceptances are not mistaken for its own. */
    public Acceptances(Store store, ObjectMapper json, String zone, String incarnation) {
        this.store = requireNonNull(store, "store");
        this.json = requireNonNull(json, "json");
        this.zone = requireNonNull(zone, "zone");
        this.incarnation = requireNonNull(incarnation, "incarnation");
    }

    /** What is known of an activation when it is accepted: enough to write its record if its zone is lost. */
    public record Pending(String activationId, String namespace, String name, String path, String subject, String version,
                          long start, ArrayNode annotations, long logLimit, Optional<String> cause) {
        public Pending {
            requireNonNull(activationId, "activationId");
            requireNonNull(namespace, "namespace");
            requireNonNull(annotations, "annotations");
            requireNonNull(cause, "cause");
        }
    }

    private String key(String activationId) {
        return PREFIX + zone + "/" + incarnation + "/" + activationId;
    }

    /** Commits the acceptance; returns once it is durable on a majority of zones. */
    public void accept(Pending p) {
        ObjectNode doc = json.createObjectNode();
        doc.put("activationId", p.activationId()).put("namespace", p.namespace()).put("name", p.name()).put("path", p.path())
                .put("subject", p.subject()).put("version", p.version()).put("start", p.start()).put("logLimit", p.logLimit());
        doc.set("annotations", p.annotations());
        p.cause().ifPresent(c -> doc.put("cause", c));
        try {
            store.put(key(p.activationId()), json.writeValueAsBytes(doc), Expect.absent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The op that ends an acceptance, committed with the activation's record. */
    public Op doneOp(String activationId) {
        return new Op.Delete(key(activationId), Expect.any());
    }

    /**
     * Records every acceptance of a zone incarnation that {@code alive} says is gone as failed: its zone
     * was lost while it ran, and the action may have run. Safe on several zones at once: each
     * acceptance is taken away by exactly one compare-and-set commit. Returns how many were recorded.
     */
    public int sweep(Predicate<String> alive, ActivationStore activations) {
        int recorded = 0;
        ScanRequest request = ScanRequest.prefix(PREFIX, 200);
        while (true) {
            ScanPage page = store.scan(request);
            for (KeyValue kv : page.items()) {
                String[] parts = kv.key().substring(PREFIX.length()).split("/");
                if (parts.length != 3) {
                    continue;
                }
                String owner = parts[0] + "/" + parts[1];
                if ((parts[0].equals(zone) && parts[1].equals(incarnation)) || alive.test(owner)) {
                    continue;
                }
                try {
                    ObjectNode doc = (ObjectNode) json.readTree(kv.value());
                    ActivationRecord lost = new ActivationRecord(doc.path("namespace").asText(), doc.path("name").asText(),
                            doc.path("path").asText(), doc.path("subject").asText(), doc.path("activationId").asText(),
                            doc.path("start").asLong(), Math.max(doc.path("start").asLong(), System.currentTimeMillis()),
                            doc.path("version").asText(), 3,
                            json.createObjectNode().put("error", "The activation was lost with zone " + parts[0]
                                    + ": the zone failed while the action ran, and the action may have run."),
                            (ArrayNode) doc.path("annotations"), List.of(),
                            doc.hasNonNull("cause") ? Optional.of(doc.get("cause").asText()) : Optional.empty());
                    activations.recordAll(List.of(new ActivationStore.Finished(lost, doc.path("logLimit").asLong(),
                            List.of(new Op.Delete(kv.key(), Expect.revision(kv.modRevision()))))));
                    LOG.warn("zone {}: activation {} of namespace {} recorded as lost with zone {} (incarnation {})", zone,
                            lost.activationId(), lost.namespace(), parts[0], parts[1]);
                    recorded++;
                } catch (IOException | RuntimeException e) {
                    LOG.warn("zone {}: could not record the lost activation {}: {}", zone, kv.key(), e.toString());
                }
            }
            if (!page.more()) {
                return recorded;
            }
            request = request.next(page);
        }
    }
}
