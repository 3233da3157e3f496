package io.petrel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.gateway.dns.DnsResponder;
import io.petrel.gateway.dns.DnsServer;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * One gateway instance: the region's global load balancer (an HTTP reverse proxy in front of the
 * zones' APIs, with health checks, outlier ejection and safe retries) and an authoritative DNS
 * server for the region's names. It stands outside the zones: it shares nothing with a zone's
 * process, so a zone's failure never takes it down. Several instances run side by side, each on
 * its own address and, on one machine, all on one shared address (SO_REUSEPORT).
 */
public final class Gateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

    private final GatewayConfig config;
    private final HttpClient probes;
    private final HttpClient proxyClient;
    private final HealthChecker health;
    private final DrPoller drPoller;
    private final Optional<GlobalPoller> global;
    private final Server server;
    private final List<ServerConnector> connectors;
    private final Server adminServer;
    private final ServerConnector adminConnector;
    private final DnsServer dns;
    private final List<Integer> dnsPorts;
    private final List<ZoneState> zones;
    private volatile boolean draining;

    private Gateway(GatewayConfig config) throws Exception {
        this.config = requireNonNull(config, "config");
        ObjectMapper json = new ObjectMapper();
        GatewayMetrics metrics = new GatewayMetrics(config.name());
        this.probes = new HttpClient();
        probes.setConnectTimeout(config.health().timeout().toMillis());
        probes.setFollowRedirects(false);
        probes.setName("gateway-probes");
        this.proxyClient = proxyClient(config.proxy());
        List<ZoneState> zs = new ArrayList<>();
        for (ZoneTarget t : config.zones()) {
            ZoneState z = new ZoneState(t, config.name(), config.health(), System::nanoTime, metrics);
            metrics.bindZone(z);
            zs.add(z);
        }
        this.zones = List.copyOf(zs);
        this.health = new HealthChecker(config, zones, probes);
        this.drPoller = new DrPoller(config, probes, json, System::nanoTime);
        this.global = config.global().map(g -> new GlobalPoller(config.name(), g, probes, json));
        ZonePicker picker = new ZonePicker(zones, config.homeZone(), config.proxy().spillInFlight());

        QueuedThreadPool threads = new QueuedThreadPool(64, 4); // no request holds a thread while it waits on a zone
        threads.setName("gateway-proxy");
        this.server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false);
        http.setRequestHeaderSize(config.proxy().maxRequestHeaderBytes());
        List<ServerConnector> cs = new ArrayList<>();
        for (HostPort l : config.listen()) {
            ServerConnector c = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
            c.setHost(l.host());
            c.setPort(l.port());
            c.setReusePort(true);
            c.setIdleTimeout(config.proxy().clientIdleTimeout().toMillis());
            c.setAcceptQueueSize(1024);
            server.addConnector(c);
            cs.add(c);
        }
        this.connectors = List.copyOf(cs);
        server.addBean(new NetworkConnectionLimit(config.proxy().maxConnections(), server));
        server.setHandler(new GracefulHandler(new ProxyHandler(config, picker, proxyClient, metrics, json)));
        server.setStopTimeout(config.proxy().drain().toMillis());

        QueuedThreadPool adminThreads = new QueuedThreadPool(16, 2);
        adminThreads.setName("gateway-admin");
        this.adminServer = new Server(adminThreads);
        this.adminConnector = new ServerConnector(adminServer, 1, 1);
        adminConnector.setHost(config.admin().host());
        adminConnector.setPort(config.admin().port());
        adminConnector.setReuseAddress(true);
        adminServer.addConnector(adminConnector);
        adminServer.setHandler(new AdminHandler(config, zones, health, drPoller::view,
                () -> global.map(GlobalPoller::status), metrics, json, () -> draining));

        Map<String, InetAddress> gatewayHosts = config.gateways().stream()
                .collect(Collectors.toMap(GatewayPeer::name, g -> address(g.admin().host())));
        DnsResponder responder = new DnsResponder(config.apex(), this::healthyZoneAddresses,
                () -> health.liveGateways().stream().map(g -> gatewayHosts.get(g.name())).distinct().toList(),
                global.map(gp -> new DnsResponder.Global(config.global().orElseThrow().name(), gp::addresses)), metrics::dnsAnswer);
        this.dns = new DnsServer(responder);
        this.dnsPorts = new ArrayList<>();
    }

    /** Starts every part; throws naming the address when one cannot be bound. */
    public static Gateway start(GatewayConfig config) throws Exception {
        Gateway g = new Gateway(config);
        try {
            g.probes.start();
            g.proxyClient.start();
            g.health.start();
            g.adminServer.start();
            g.server.start();
            // After the admin server, so that the first poll of this instance's own status finds it serving.
            g.drPoller.start();
            g.global.ifPresent(GlobalPoller::start);
            for (HostPort d : config.dns()) {
                g.dnsPorts.add(g.dns.listen(new InetSocketAddress(address(d.host()), d.port())));
            }
        } catch (Exception e) {
            g.close();
            throw e;
        }
        LOG.info("gateway {}: serving region {} on {}, admin on {}, DNS for {}{} on {}; zones {}", config.name(), config.region(),
                config.listen(), config.admin(), config.apex(), config.global().map(gl -> " and " + gl.name()).orElse(""), config.dns(),
                config.zones().stream().map(z -> z.zone() + "=" + z.api()).toList());
        return g;
    }

    private static HttpClient proxyClient(GatewayConfig.Proxy p) {
        HttpClient c = new HttpClient();
        c.setName("gateway-upstream");
        c.setFollowRedirects(false);
        c.setUserAgentField(null);
        c.setConnectTimeout(p.connectTimeout().toMillis());
        // Shorter than the zones' own idle timeout (60 s), so the gateway, not the zone, closes an idle connection.
        c.setIdleTimeout(Math.min(30_000, p.clientIdleTimeout().toMillis()));
        c.setMaxConnectionsPerDestination(1024);
        c.setMaxRequestsQueuedPerDestination(4096);
        c.getContentDecoderFactories().clear(); // bodies pass through as the zone encoded them
        c.getProtocolHandlers().clear();        // 401, 100-continue and redirects are the client's business
        return c;
    }

    /** The API addresses of the zones whose probes pass; all of them when none do (an answer is never empty). */
    private List<InetAddress> healthyZoneAddresses() {
        List<ZoneState> up = zones.stream().filter(ZoneState::up).toList();
        LinkedHashSet<InetAddress> out = new LinkedHashSet<>();
        for (ZoneState z : up.isEmpty() ? zones : up) {
            out.add(address(z.target().api().host()));
        }
        return List.copyOf(out);
    }

    private static InetAddress address(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve '" + host + "': " + e.getMessage(), e);
        }
    }

    /** The port bound for the {@code i}-th listen address (useful when it was 0). */
    public int port(int i) {
        return connectors.get(i).getLocalPort();
    }

    public int adminPort() {
        return adminConnector.getLocalPort();
    }

    /** The port bound for the {@code i}-th DNS address (useful when it was 0). */
    public int dnsPort(int i) {
        return dnsPorts.get(i);
    }

    /**
     * Drains: reports not ready, stops accepting connections (the other instances on a shared address
     * take the new ones), lets the requests it holds finish within {@code drain.ms}, then stops.
     */
    @Override
    public void close() {
        LOG.info("gateway {}: draining", config.name());
        draining = true;
        stop(server);
        health.close();
        drPoller.close();
        global.ifPresent(GlobalPoller::close);
        dns.close();
        stop(adminServer);
        stop(proxyClient);
        stop(probes);
        LOG.info("gateway {}: stopped", config.name());
    }

    private void stop(org.eclipse.jetty.util.component.LifeCycle c) {
        try {
            c.stop();
        } catch (Exception e) {
            LOG.warn("gateway {}: {} did not stop cleanly: {}", config.name(), c, e.toString());
        }
    }
}
