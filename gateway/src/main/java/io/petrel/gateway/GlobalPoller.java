package io.petrel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * The global name's answer: every {@code global.interval.ms} the {@code /gateway/v1/status} of every
 * gateway of every listed region (this one too, over HTTP like the others) is polled, one poll at a
 * time per gateway, and after each answer {@link GlobalSelector} decides anew which region the name
 * answers with. DNS reads only the decision ({@link #addresses}), so no query ever waits on a poll.
 *
 * <p>A gateway counts as live while its last poll got a status that names the region it is listed
 * under and says it is not draining; it contributes its {@code apiHost} and its region's
 * {@code dr} view. A region's view is the highest-epoch one among its live gateways.
 */
final class GlobalPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GlobalPoller.class);

    /** One listed gateway of one region. */
    private record Peer(String region, HostPort admin) {
        @Override
        public String toString() {
            return region + "/" + admin;
        }
    }

    /** What the last poll of a peer said. */
    private record PeerState(boolean live, String reason, Optional<DrView> dr, Optional<InetAddress> apiHost) {
        static final PeerState UNKNOWN = new PeerState(false, "not polled yet", Optional.empty(), Optional.empty());

        static PeerState down(String reason) {
            return new PeerState(false, reason, Optional.empty(), Optional.empty());
        }
    }

    private final String gateway;
    private final GatewayConfig.Global global;
    private final HttpClient http;
    private final ObjectMapper json;
    private final List<Peer> peers;
    private final Map<Peer, PeerState> states = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gateway-global");
        t.setDaemon(true);
        return t;
    });
    private volatile Optional<GlobalSelector.Answer> answer = Optional.empty();
    private volatile boolean closed;

    GlobalPoller(String gateway, GatewayConfig.Global global, HttpClient http, ObjectMapper json) {
        this.gateway = requireNonNull(gateway, "gateway");
        this.global = requireNonNull(global, "global");
        this.http = requireNonNull(http, "http");
        this.json = requireNonNull(json, "json");
        List<Peer> ps = new ArrayList<>();
        global.regions().forEach((region, admins) -> admins.forEach(a -> ps.add(new Peer(region, a))));
        this.peers = List.copyOf(ps);
        peers.forEach(p -> states.put(p, PeerState.UNKNOWN));
    }

    void start() {
        for (Peer p : peers) {
            timer.execute(() -> poll(p));
        }
    }

    /** The hosts the global name answers with now: empty only until a region has first been chosen. Never blocks. */
    List<InetAddress> addresses() {
        return answer.map(GlobalSelector.Answer::hosts).orElse(List.of());
    }

    Optional<GlobalSelector.Answer> answer() {
        return answer;
    }

    private void poll(Peer p) {
        if (closed) {
            return;
        }
        long started = System.nanoTime();
        http.newRequest("http://" + p.admin() + "/gateway/v1/status").timeout(global.timeout().toMillis(), TimeUnit.MILLISECONDS)
                .send(new BufferingResponseListener(1 << 20) {
                    @Override
                    public void onComplete(Result result) {
                        PeerState s;
                        if (!result.isSucceeded()) {
                            s = PeerState.down(HealthChecker.describe(result.getFailure()));
                        } else if (result.getResponse().getStatus() != 200) {
                            s = PeerState.down("status answered " + result.getResponse().getStatus());
                        } else {
                            s = read(p, getContentAsString());
                        }
                        PeerState before = states.put(p, s);
                        if (before == null || before.live() != s.live()) {
                            LOG.info("gateway {}: global peer {} {}", gateway, p, s.live() ? "live" : "not live (" + s.reason() + ")");
                        }
                        decide();
                        next(p, started);
                    }
                });
    }

    private PeerState read(Peer p, String body) {
        JsonNode status;
        try {
            status = json.readTree(body);
        } catch (Exception e) {
            return PeerState.down("status is not JSON");
        }
        if (!p.region().equals(status.path("region").asText())) {
            return PeerState.down("says it is in region '" + status.path("region").asText() + "'");
        }
        if (status.path("draining").asBoolean(false)) {
            return PeerState.down("draining");
        }
        // An older gateway says nothing of its API host: its admin host is then the best guess, as for gw.<region>.
        String host = status.path("apiHost").isTextual() ? status.path("apiHost").asText() : p.admin().host();
        try {
            // Gateways are listed by address, so this is a parse, not a lookup; a name would use the JVM's cache.
            InetAddress address = InetAddress.getByName(host);
            return new PeerState(true, "ok", DrView.fromJson(status.path("dr"), p.region()), Optional.of(address));
        } catch (UnknownHostException e) {
            return PeerState.down("cannot resolve its apiHost '" + host + "'");
        }
    }

    /** The regions as the peers' last polls show them, in the order they are listed. */
    private List<GlobalSelector.Region> regions() {
        List<GlobalSelector.Region> out = new ArrayList<>();
        for (String region : global.regions().keySet()) {
            List<PeerState> live = peers.stream().filter(p -> p.region().equals(region)).map(states::get).filter(PeerState::live).toList();
            LinkedHashSet<InetAddress> hosts = new LinkedHashSet<>();
            live.forEach(s -> s.apiHost().ifPresent(hosts::add));
            out.add(new GlobalSelector.Region(region, DrView.combine(live.stream().flatMap(s -> s.dr().stream()).toList()), List.copyOf(hosts)));
        }
        return out;
    }

    /** Decides the answer anew; logs one line when it moves to another region. */
    private synchronized void decide() {
        Optional<GlobalSelector.Answer> before = answer;
        Optional<GlobalSelector.Answer> now = GlobalSelector.select(regions(), before);
        if (now.equals(before)) {
            return;
        }
        answer = now;
        GlobalSelector.Answer a = now.orElseThrow(); // the selector keeps the last answer rather than drop it
        String line = "gateway {}: global name {} now answers with region {} (epoch {}): {}";
        Object[] args = {gateway, global.name(), a.region(), a.epoch(),
                a.hosts().stream().map(InetAddress::getHostAddress).collect(Collectors.joining(", "))};
        if (before.isEmpty() || !before.get().region().equals(a.region())) {
            LOG.info(line, args);
        } else {
            LOG.debug(line, args);
        }
    }

    /** For {@code /gateway/v1/status}: the answer and each region's gateways as this instance sees them. */
    Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", global.name());
        Optional<GlobalSelector.Answer> a = answer;
        s.put("region", a.map(GlobalSelector.Answer::region).orElse(null));
        s.put("epoch", a.map(GlobalSelector.Answer::epoch).orElse(null));
        s.put("hosts", a.map(x -> x.hosts().stream().map(InetAddress::getHostAddress).toList()).orElse(List.of()));
        s.put("regions", regions().stream().map(r -> {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("region", r.name());
            row.put("dr", r.dr().map(DrView::toJson).orElse(null));
            row.put("gateways", peers.stream().filter(p -> p.region().equals(r.name())).map(p -> {
                PeerState st = states.get(p);
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("admin", p.admin().toString());
                g.put("live", st.live());
                g.put("apiHost", st.apiHost().map(InetAddress::getHostAddress).orElse(null));
                g.put("reason", st.reason());
                return g;
            }).toList());
            return row;
        }).toList());
        return s;
    }

    private void next(Peer p, long startedNanos) {
        if (closed) {
            return;
        }
        long waitNanos = global.interval().toNanos() - (System.nanoTime() - startedNanos);
        try {
            timer.schedule(() -> poll(p), Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
    }
}
