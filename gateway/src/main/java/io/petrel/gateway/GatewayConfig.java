package io.petrel.gateway;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * How one gateway instance runs: the region it fronts, where it listens (proxy, admin, DNS), the
 * zones it routes to, the other gateway instances, and its health, retry and limit settings.
 *
 * <p>Read from a properties file ({@link #fromProperties}); every key is in the gateway README.
 */
public record GatewayConfig(String region, String domain, String name, List<HostPort> listen, HostPort admin, List<HostPort> dns,
                            List<ZoneTarget> zones, List<GatewayPeer> gateways, Optional<String> homeZone, Health health, Proxy proxy) {

    /** Active health checks and passive outlier ejection. */
    public record Health(Duration interval, Duration timeout, int fall, int rise, int ejectAfterFailures, Duration ejection) {
        public Health {
            requireNonNull(interval, "interval");
            requireNonNull(timeout, "timeout");
            requireNonNull(ejection, "ejection");
            if (interval.toMillis() < 10 || timeout.toMillis() < 10) {
                throw new IllegalArgumentException("health.interval.ms and health.timeout.ms must be at least 10");
            }
            if (fall < 1 || rise < 1 || ejectAfterFailures < 1) {
                throw new IllegalArgumentException("health.fall, health.rise and eject.after.failures must be at least 1");
            }
        }
    }

    /** Limits and timeouts of the proxy. */
    public record Proxy(Duration connectTimeout, Duration attemptTimeout, Duration invokeTimeout, Duration retryBudget, int maxAttempts,
                        long replayableBodyBytes, int spillInFlight, int maxConnections, int maxRequestHeaderBytes,
                        Duration clientIdleTimeout, Duration drain) {
        public Proxy {
            requireNonNull(connectTimeout, "connectTimeout");
            requireNonNull(attemptTimeout, "attemptTimeout");
            requireNonNull(invokeTimeout, "invokeTimeout");
            requireNonNull(retryBudget, "retryBudget");
            requireNonNull(clientIdleTimeout, "clientIdleTimeout");
            requireNonNull(drain, "drain");
            if (maxAttempts < 1 || maxConnections < 1 || maxRequestHeaderBytes < 1024 || spillInFlight < 1 || replayableBodyBytes < 0) {
                throw new IllegalArgumentException("max.attempts, max.connections and spill.in.flight must be at least 1, "
                        + "max.request.header.bytes at least 1024, replayable.body.bytes at least 0");
            }
        }
    }

    public GatewayConfig {
        requireNonNull(region, "region");
        requireNonNull(domain, "domain");
        requireNonNull(name, "name");
        requireNonNull(admin, "admin");
        requireNonNull(homeZone, "homeZone");
        requireNonNull(health, "health");
        requireNonNull(proxy, "proxy");
        listen = List.copyOf(listen);
        dns = List.copyOf(dns);
        zones = List.copyOf(zones);
        gateways = List.copyOf(gateways);
        if (listen.isEmpty()) {
            throw new IllegalArgumentException("gateway configuration needs at least one 'listen' address");
        }
        if (zones.isEmpty()) {
            throw new IllegalArgumentException("gateway configuration needs the region's 'zones'");
        }
        Set<String> names = new HashSet<>();
        for (ZoneTarget z : zones) {
            if (!names.add(z.zone())) {
                throw new IllegalArgumentException("zone '" + z.zone() + "' is listed twice");
            }
        }
        if (homeZone.isPresent() && !names.contains(homeZone.get())) {
            throw new IllegalArgumentException("home.zone '" + homeZone.get() + "' is not one of the zones " + names);
        }
        if (gateways.stream().noneMatch(g -> g.name().equals(name))) {
            List<GatewayPeer> all = new ArrayList<>(gateways);
            all.add(new GatewayPeer(name, admin));
            gateways = List.copyOf(all);
        }
    }

    /** The DNS zone this gateway is authoritative for: {@code <region>.<domain>}. */
    public String apex() {
        return region + "." + domain;
    }

    public static Properties readFile(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return p;
    }

    /**
     * Builds a configuration from properties. {@code zones} is {@code a=host:apiPort,b=...} and
     * {@code zones.health} the same with the zones' health ports (default: the API host, port 7180);
     * {@code gateways} is {@code g1=host:adminPort,...}.
     */
    public static GatewayConfig fromProperties(Properties p) {
        String region = required(p, "region");
        String name = required(p, "name");
        Map<String, HostPort> api = pairs(p, "zones", required(p, "zones"));
        Map<String, HostPort> health = pairs(p, "zones.health", p.getProperty("zones.health", ""));
        List<ZoneTarget> zones = api.entrySet().stream()
                .map(e -> new ZoneTarget(e.getKey(), e.getValue(), health.getOrDefault(e.getKey(), new HostPort(e.getValue().host(), 7180))))
                .toList();
        for (String z : health.keySet()) {
            if (!api.containsKey(z)) {
                throw new IllegalArgumentException("zones.health names zone '" + z + "', which is not in zones");
            }
        }
        List<GatewayPeer> gateways = pairs(p, "gateways", p.getProperty("gateways", "")).entrySet().stream()
                .map(e -> new GatewayPeer(e.getKey(), e.getValue())).toList();
        String home = p.getProperty("home.zone", "").trim();
        Health h = new Health(ms(p, "health.interval.ms", 250), ms(p, "health.timeout.ms", 1000), integer(p, "health.fall", 2),
                integer(p, "health.rise", 2), integer(p, "eject.after.failures", 3), ms(p, "eject.ms", 5000));
        Proxy x = new Proxy(ms(p, "connect.timeout.ms", 1000), ms(p, "attempt.timeout.ms", 10_000), ms(p, "invoke.timeout.ms", 330_000),
                ms(p, "retry.budget.ms", 15_000), integer(p, "max.attempts", 30), number(p, "replayable.body.bytes", 1 << 20),
                integer(p, "spill.in.flight", 32), integer(p, "max.connections", 2048), integer(p, "max.request.header.bytes", 16 * 1024),
                ms(p, "client.idle.timeout.ms", 30_000), ms(p, "drain.ms", 10_000));
        return new GatewayConfig(region, p.getProperty("domain", "petrel.internal").trim(), name, addresses(p, "listen", required(p, "listen")),
                HostPort.parse("admin", required(p, "admin")), addresses(p, "dns", p.getProperty("dns", "")), zones, gateways,
                home.isEmpty() ? Optional.empty() : Optional.of(home), h, x);
    }

    private static List<HostPort> addresses(Properties p, String key, String value) {
        return split(value).stream().map(v -> HostPort.parse(key, v)).toList();
    }

    private static Map<String, HostPort> pairs(Properties p, String key, String value) {
        return split(value).stream().map(v -> {
            int eq = v.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(key + " must look like name=host:port,..., got '" + v + "'");
            }
            return Map.entry(v.substring(0, eq).trim(), HostPort.parse(key, v.substring(eq + 1)));
        }).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (x, y) -> {
            throw new IllegalArgumentException(key + " names the same entry twice");
        }, java.util.LinkedHashMap::new));
    }

    private static List<String> split(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("gateway configuration is missing '" + key + "'");
        }
        return v.trim();
    }

    private static Duration ms(Properties p, String key, long dflt) {
        return Duration.ofMillis(number(p, key, dflt));
    }

    private static int integer(Properties p, String key, int dflt) {
        return Math.toIntExact(number(p, key, dflt));
    }

    private static long number(Properties p, String key, long dflt) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("gateway configuration '" + key + "' must be a number, got '" + v + "'");
        }
    }
}
