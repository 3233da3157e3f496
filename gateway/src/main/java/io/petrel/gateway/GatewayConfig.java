package io.petrel.gateway;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
                            List<ZoneTarget> zones, List<GatewayPeer> gateways, Optional<String> homeZone, Health health, Proxy proxy,
                            Dr dr, Optional<Global> global) {

    /** How often, and how patiently, the zones' {@code /admin/v1/dr} is polled. */
    public record Dr(Duration interval, Duration timeout) {
        public static final Dr DEFAULT = new Dr(Duration.ofMillis(1000), Duration.ofMillis(500));

        public Dr {
            requireNonNull(interval, "interval");
            requireNonNull(timeout, "timeout");
            if (interval.toMillis() < 10 || timeout.toMillis() < 10) {
                throw new IllegalArgumentException("dr.interval.ms and dr.timeout.ms must be at least 10");
            }
        }
    }

    /**
     * The global name: a DNS name every gateway of every listed region answers with the API hosts of
     * the live gateways of whichever region is primary now. {@code regions} maps each region taking
     * part, this one included, to the admin addresses of its gateway instances.
     */
    public record Global(String name, Map<String, List<HostPort>> regions, Duration interval, Duration timeout) {
        public Global {
            requireNonNull(name, "name");
            requireNonNull(interval, "interval");
            requireNonNull(timeout, "timeout");
            name = name.trim().toLowerCase(Locale.ROOT);
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1);
            }
            if (name.isEmpty() || !name.contains(".")) {
                throw new IllegalArgumentException("global.name must be a DNS name of at least two labels, got '" + name + "'");
            }
            LinkedHashMap<String, List<HostPort>> copy = new LinkedHashMap<>();
            regions.forEach((r, peers) -> {
                if (peers.isEmpty()) {
                    throw new IllegalArgumentException("global.regions lists no gateway for region '" + r + "'");
                }
                copy.put(r, List.copyOf(peers));
            });
            if (copy.isEmpty()) {
                throw new IllegalArgumentException("global.name needs global.regions");
            }
            regions = Collections.unmodifiableMap(copy);
            if (interval.toMillis() < 10 || timeout.toMillis() < 10) {
                throw new IllegalArgumentException("global.interval.ms and global.timeout.ms must be at least 10");
            }
        }

        /** The DNS zone the global name lives in (its parent), for which the gateway is authoritative too. */
        public String zone() {
            return name.substring(name.indexOf('.') + 1);
        }
    }

    /** A configuration without DR polling settings of its own (the defaults) and without a global name. */
    public GatewayConfig(String region, String domain, String name, List<HostPort> listen, HostPort admin, List<HostPort> dns,
                         List<ZoneTarget> zones, List<GatewayPeer> gateways, Optional<String> homeZone, Health health, Proxy proxy) {
        this(region, domain, name, listen, admin, dns, zones, gateways, homeZone, health, proxy, Dr.DEFAULT, Optional.empty());
    }

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
        requireNonNull(dr, "dr");
        requireNonNull(global, "global");
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
        if (global.isPresent() && !global.get().regions().containsKey(region)) {
            throw new IllegalArgumentException("global.regions must list this gateway's own region '" + region + "', got "
                    + global.get().regions().keySet());
        }
    }

    /**
     * The host this instance serves the API on, as a peer region's gateway should hand it out: the
     * listen address on the instance's own (admin) host if there is one, else the first listen host
     * that is not a wildcard, else the admin host. (A shared address such as 127.0.0.1 is not the
     * instance's own, and a wildcard is no address at all.)
     */
    public String apiHost() {
        for (HostPort l : listen) {
            if (l.host().equals(admin.host())) {
                return l.host();
            }
        }
        for (HostPort l : listen) {
            if (!l.host().equals("0.0.0.0") && !l.host().equals("::") && !l.host().equals("[::]")) {
                return l.host();
            }
        }
        return admin.host();
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
     * {@code gateways} is {@code g1=host:adminPort,...}; {@code global.regions} is
     * {@code east=host:adminPort|host:adminPort,west=...}.
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
        Dr dr = new Dr(ms(p, "dr.interval.ms", 1000), ms(p, "dr.timeout.ms", 500));
        return new GatewayConfig(region, p.getProperty("domain", "petrel.internal").trim(), name, addresses(p, "listen", required(p, "listen")),
                HostPort.parse("admin", required(p, "admin")), addresses(p, "dns", p.getProperty("dns", "")), zones, gateways,
                home.isEmpty() ? Optional.empty() : Optional.of(home), h, x, dr, global(p));
    }

    private static Optional<Global> global(Properties p) {
        String name = p.getProperty("global.name", "").trim();
        String regions = p.getProperty("global.regions", "").trim();
        if (name.isEmpty()) {
            if (!regions.isEmpty()) {
                throw new IllegalArgumentException("global.regions is set but global.name is not");
            }
            return Optional.empty();
        }
        Map<String, List<HostPort>> byRegion = new LinkedHashMap<>();
        for (String entry : split(regions)) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("global.regions must look like REGION=host:port|host:port,..., got '" + entry + "'");
            }
            String r = entry.substring(0, eq).trim();
            List<HostPort> peers = Arrays.stream(entry.substring(eq + 1).split("\\|")).map(String::trim).filter(v -> !v.isEmpty())
                    .map(v -> HostPort.parse("global.regions", v)).toList();
            if (byRegion.put(r, peers) != null) {
                throw new IllegalArgumentException("global.regions names region '" + r + "' twice");
            }
        }
        return Optional.of(new Global(name, byRegion, ms(p, "global.interval.ms", 1000), ms(p, "global.timeout.ms", 500)));
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
        }, LinkedHashMap::new));
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
