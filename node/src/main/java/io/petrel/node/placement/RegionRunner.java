package io.petrel.node.placement;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.invoke.ActionRunner;
import io.petrel.api.invoke.Invocations;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.invoke.RunResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * Places an activation: in this zone when its pool has room, else on the zone with the most free
 * container memory that the directory shows, through that zone's {@code /invoker/v1/run}. Only when
 * no zone shows room does it answer empty (the API's 503). The directory is up to a second old, so
 * a peer may turn a run away after all; the next peer is tried, and if none takes it the activation
 * ends as a whisk error saying the region had no room.
 */
public final class RegionRunner implements ActionRunner {
    private static final Logger LOG = LoggerFactory.getLogger(RegionRunner.class);
    static final String PATH = "/invoker/v1/run";

    private final String zone;
    private final ActionRunner local;
    private final InvokerDirectory directory;
    private final PlacementSecret secret;
    private final RunCodec codec;
    private final ObjectMapper json;
    private final HttpClient http;
    /**
     * Memory this zone placed on each peer since the peer's entry was last published: a burst must
     * not send every run to the same peer, and what a peer published already counts what it runs.
     */
    private final ConcurrentHashMap<String, Placed> placed = new ConcurrentHashMap<>();

    private static final class Placed {
        final long published;
        final AtomicInteger mb = new AtomicInteger();

        Placed(long published) {
            this.published = published;
        }
    }

    private Placed placedSince(InvokerDirectory.Entry peer) {
        return placed.compute(peer.zone(), (k, old) -> old != null && old.published == peer.updated() ? old : new Placed(peer.updated()));
    }

    RegionRunner(String zone, ActionRunner local, InvokerDirectory directory, PlacementSecret secret, ObjectMapper json) {
        this.zone = requireNonNull(zone, "zone");
        this.local = requireNonNull(local, "local");
        this.directory = requireNonNull(directory, "directory");
        this.secret = requireNonNull(secret, "secret");
        this.json = requireNonNull(json, "json");
        this.codec = new RunCodec(json);
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();
    }

    @Override
    public Optional<CompletableFuture<RunResult>> tryRun(RunRequest request) {
        Optional<CompletableFuture<RunResult>> here = local.tryRun(request);
        if (here.isPresent()) {
            return here;
        }
        List<InvokerDirectory.Entry> candidates = peersWithRoom(request);
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(placeOn(request, candidates, 0, false));
    }

    /**
     * Here, else on a zone that said it has room, else waits here for room (up to the capacity wait):
     * queueing where the request arrived keeps its zone's warm containers in use, and the peers' room
     * is only what they last published.
     */
    @Override
    public Optional<CompletableFuture<RunResult>> tryRunWaiting(RunRequest request) throws InterruptedException {
        Optional<CompletableFuture<RunResult>> here = local.tryRun(request);
        if (here.isPresent()) {
            return here;
        }
        List<InvokerDirectory.Entry> candidates = peersWithRoom(request);
        if (candidates.isEmpty()) {
            return local.tryRunWaiting(request);
        }
        return Optional.of(placeOn(request, candidates, 0, true));
    }

    private List<InvokerDirectory.Entry> peersWithRoom(RunRequest request) {
        int need = request.limits().memoryMb();
        return directory.peers().stream().filter(p -> p.freeMb() - placedSince(p).mb.get() >= need).toList();
    }

    /** Every peer refused it (their published room was gone): wait here, on a thread of its own, or fail as the region being full. */
    private CompletableFuture<RunResult> waitHere(RunRequest request) {
        CompletableFuture<RunResult> done = new CompletableFuture<>();
        Thread.ofVirtual().name("petrel-wait-" + request.activationId()).start(() -> {
            try {
                local.tryRunWaiting(request).ifPresentOrElse(run -> run.whenComplete((r, t) -> done.complete(r != null ? r
                        : failure(request, "The activation failed in zone " + zone + ": " + t))),
                        () -> done.complete(failure(request, Invocations.NO_CAPACITY)));
            } catch (InterruptedException e) {
                done.complete(failure(request, Invocations.NO_CAPACITY));
            }
        });
        return done;
    }

    private CompletableFuture<RunResult> placeOn(RunRequest request, List<InvokerDirectory.Entry> peers, int i, boolean wait) {
        if (i >= peers.size()) {
            return wait ? waitHere(request) : CompletableFuture.completedFuture(failure(request, Invocations.NO_CAPACITY));
        }
        InvokerDirectory.Entry peer = peers.get(i);
        placedSince(peer).mb.addAndGet(request.limits().memoryMb());
        HttpRequest post;
        try {
            post = HttpRequest.newBuilder(URI.create(peer.url() + PATH))
                    .timeout(Duration.ofMillis(request.limits().timeoutMillis() + 30_000L))
                    .header("Authorization", "Bearer " + secret.get()).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(codec.request(request)))).build();
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.completedFuture(failure(request, "The activation could not be placed on zone " + peer.zone() + ": " + e));
        }
        return http.sendAsync(post, HttpResponse.BodyHandlers.ofByteArray()).handle((response, error) -> {
            if (error != null) {
                LOG.warn("zone {}: activation {} placed on zone {} was lost with it: {}", zone, request.activationId(), peer.zone(), error.toString());
                return CompletableFuture.completedFuture(failure(request, "The activation was lost with zone " + peer.zone()
                        + ": the zone failed while the action ran, and the action may have run."));
            }
            if (response.statusCode() == 503) {
                return placeOn(request, peers, i + 1, wait);
            }
            try {
                if (response.statusCode() != 200) {
                    throw new IOException("HTTP " + response.statusCode() + ": " + new String(response.body()));
                }
                return CompletableFuture.completedFuture(codec.result(json.readTree(response.body())));
            } catch (IOException | RuntimeException e) {
                return CompletableFuture.completedFuture(failure(request, "Zone " + peer.zone() + " answered the placed activation badly: " + e.getMessage()));
            }
        }).thenCompose(f -> f);
    }

    private RunResult failure(RunRequest request, String message) {
        long now = System.currentTimeMillis();
        return new RunResult(3, json.createObjectNode().put("error", message), List.of(), now, now, OptionalLong.empty(), false, zone);
    }
}
