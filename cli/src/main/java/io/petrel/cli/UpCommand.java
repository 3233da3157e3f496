package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.api.OpenWhiskApi;
import io.petrel.cli.dr.DrClient;
import io.petrel.cli.local.GatewaySpec;
import io.petrel.cli.local.LocalRegion;
import io.petrel.cli.local.NamedRegions;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code petrel up}: starts a local region, every zone its own process on its own loopback address. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start a local region (zones as processes on 127.0.1.1, 127.0.2.1, ...) and wait until it is ready.")
final class UpCommand implements Callable<Integer> {
    @Option(names = "--zones", defaultValue = "3", description = "number of zones: 3 or 5 (default ${DEFAULT-VALUE})")
    int zones;

    @Option(names = "--data", paramLabel = "DIR", description = "data folder (default: ~/.petrel/region)")
    Path data;

    @Option(names = "--region", paramLabel = "NAME", description = "a named region: its own loopback prefix (127.<n>), data in "
            + "~/.petrel/regions/NAME, disaster recovery on, backing up into the witness target all named regions share")
    String regionName;

    @Option(names = "--standby-of", paramLabel = "REGION", description = "start this named region as a standby of REGION: seeded from "
            + "REGION's backups, it follows its archive, serves reads, refuses writes, and takes over if REGION is lost")
    String standbyOf;

    @Option(names = "--failover-ms", paramLabel = "MS", description = "with --region: once the region is a standby, promote automatically "
            + "after its primary has been unreachable this long (default 60000)")
    Long failoverMs;

    @Option(names = "--manual-failover", description = "with --region: as a standby, never promote automatically (petrel region promote|switchover do)")
    boolean manualFailover;

    @Option(names = "--backup-target", paramLabel = "SPEC", description = "with --region: where the region backs up, the witness of "
            + "disaster recovery (a directory or s3://bucket/prefix?endpoint=...; default ~/.petrel/dr-target). It must sit outside every region")
    String backupTarget;

    @Option(names = "--store", paramLabel = "BACKEND", defaultValue = "raft", description = "where the zones keep the region's state: "
            + "raft (the embedded store, every zone a voter; default) or postgres (a PostgreSQL database the operator runs with its own"
            + " replication and backups; give --postgres-url)")
    String storeBackend;

    @Option(names = "--postgres-url", paramLabel = "URL", description = "with --store postgres: the JDBC URL, e.g. "
            + "jdbc:postgresql://db1:5432,db2:5432/petrel?targetServerType=primary")
    String postgresUrl;

    @Option(names = "--postgres-user", paramLabel = "USER", defaultValue = "petrel", description = "with --store postgres: the database role (default ${DEFAULT-VALUE})")
    String postgresUser;

    @Option(names = "--postgres-password-file", paramLabel = "FILE", description = "with --store postgres: a file holding the role's password")
    Path postgresPasswordFile;

    @Option(names = "--postgres-password-env", paramLabel = "VAR", description = "with --store postgres: an environment variable holding the role's password")
    String postgresPasswordEnv;

    @Option(names = "--gateways", hidden = true, defaultValue = "2")
    int gatewayCount;

    @Option(names = "--foreground", description = "stay attached, printing the zones' logs, and stop the region on Ctrl-C")
    boolean foreground;

    @Option(names = "--timeout", defaultValue = "90", description = "seconds to wait for the region to be ready (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Mixin
    HiddenRegionOptions hidden;

    /**
     * A primary's zones take writes only once the backup target acknowledged their epoch (the fencing
     * lease), a moment after they are ready: "ready" must mean a write now succeeds, so wait for it.
     * Standbys and demoted primaries take no writes by design and are not waited for.
     */
    private static void awaitWritesIfPrimary(RegionLayout layout, Duration timeout) throws IOException, InterruptedException {
        DrClient dr = new DrClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<JsonNode> statuses = dr.statuses(layout);
            List<String> waiting = new ArrayList<>();
            for (JsonNode s : statuses) {
                String role = s.path("role").asText();
                boolean settled = s.path("writable").asBoolean() || role.equals("STANDBY") || role.equals("DEMOTED") || role.equals("PROMOTING");
                if (!settled) {
                    waiting.add("zone " + s.path("zone").asText() + " (" + role + (s.path("problem").isTextual() ? ": "
                            + s.path("problem").asText() : "") + ")");
                }
            }
            if (statuses.size() == layout.zones().size() && waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("region " + layout.region() + " is up but does not take writes after " + timeout.toSeconds()
                        + " s: " + (waiting.isEmpty() ? "not every zone answers /admin/v1/dr" : String.join(", ", waiting)));
            }
            Thread.sleep(100);
        }
    }

    /**
     * Both regions' gateways answer the global name for both; the primary's running gateways are
     * restarted one at a time to learn of the standby (the other instance serves meanwhile).
     */
    private RegionLayout joinGlobalName(RegionLayout standby, RegionLayout primary) throws Exception {
        Map<String, String> global = NamedRegions.globalTuning(java.util.List.of(primary, standby));
        Map<String, String> p = new java.util.HashMap<>(primary.tuning());
        p.putAll(global);
        // Used once the primary itself becomes a standby (after a failback): it then probes this region.
        p.put("dr.peer.health", String.join(",", standby.zones().stream().map(z -> z.host() + ":" + z.httpPort()).toList()));
        RegionLayout updated = primary.withTuning(p);
        updated.save();
        if (global.isEmpty()) {
            return standby;
        }
        LocalRegion running = new LocalRegion(updated, RegionOptions.launcher(updated.dataDir()));
        for (GatewaySpec g : updated.gateways()) {
            if (running.gateway(g.name()).running().isPresent()) {
                running.gateway(g.name()).stop(Duration.ofSeconds(15));
                running.startGateway(g.name());
                running.awaitGateways(updated.zones().stream().map(ZoneSpec::zone).toList(), Duration.ofSeconds(30));
            }
        }
        Map<String, String> s = new java.util.HashMap<>(standby.tuning());
        s.putAll(global);
        return standby.withTuning(s);
    }

    /**
     * The node settings of {@code --store}: none for raft; for postgres the database, the credentials' source (never
     * the password itself: the node reads it from the file or variable) and no backups of Petrel's own.
     */
    Map<String, String> storeTuning() {
        switch (storeBackend) {
            case "raft" -> {
                if (postgresUrl != null || postgresPasswordFile != null || postgresPasswordEnv != null) {
                    throw new IllegalArgumentException("--postgres-* options need --store postgres");
                }
                return Map.of();
            }
            case "postgres" -> {
                if (postgresUrl == null || postgresUrl.isBlank()) {
                    throw new IllegalArgumentException("--store postgres needs --postgres-url jdbc:postgresql://host:port[,host:port]/db");
                }
                if (regionName != null || standbyOf != null || backupTarget != null) {
                    throw new IllegalArgumentException("--store postgres runs without Petrel's backups and standby regions (--region,"
                            + " --standby-of, --backup-target): PostgreSQL's own replication, WAL archiving and point-in-time recovery do that");
                }
                if (postgresPasswordFile != null && postgresPasswordEnv != null) {
                    throw new IllegalArgumentException("give --postgres-password-file or --postgres-password-env, not both");
                }
                Map<String, String> t = new java.util.HashMap<>();
                t.put("store.backend", "postgres");
                t.put("store.postgres.url", postgresUrl);
                t.put("store.postgres.user", postgresUser);
                if (postgresPasswordFile != null) {
                    t.put("store.postgres.password.file", postgresPasswordFile.toAbsolutePath().toString());
                }
                if (postgresPasswordEnv != null) {
                    t.put("store.postgres.password.env", postgresPasswordEnv);
                }
                t.put("backup.target", "none");
                return t;
            }
            default -> throw new IllegalArgumentException("--store must be raft or postgres, not '" + storeBackend + "'");
        }
    }

    @Override
    public Integer call() throws Exception {
        Map<String, String> storeTuning = storeTuning();
        if (zones != 3 && zones != 5) {
            throw new IllegalArgumentException("--zones must be 3 or 5 (an odd number of voters, so that a majority survives a zone's loss)");
        }
        if (standbyOf != null && regionName == null) {
            throw new IllegalArgumentException("--standby-of needs --region NAME: a standby is a named region of its own");
        }
        NamedRegions named = new NamedRegions(RegionOptions.home());
        Path dir = (data != null ? data : regionName != null ? named.dir(regionName) : RegionOptions.home().resolve("region")).toAbsolutePath();
        RegionLayout layout;
        if (regionName != null && !RegionLayout.exists(dir)) {
            String prefix = hidden.ipPrefix.equals("127.0") ? named.ipPrefix(regionName) : hidden.ipPrefix;
            RegionLayout base = RegionLayout.of(regionName, dir, zones, gatewayCount, prefix, hidden.raftPort, hidden.httpPort, hidden.apiPort,
                    Map.of());
            String target = backupTarget != null ? backupTarget : named.sharedTarget().toString();
            java.util.List<ZoneSpec> peers = java.util.List.of();
            Map<String, String> extra = new java.util.HashMap<>();
            if (standbyOf != null) {
                RegionLayout primary = RegionLayout.load(named.dir(standbyOf));
                target = primary.backupTarget();
                peers = primary.zones();
                primary.tuning().forEach((k, v) -> {
                    if (k.startsWith("backup.") || k.startsWith("dr.lease") || k.startsWith("dr.renew") || k.startsWith("dr.clock")) {
                        extra.put(k, v);
                    }
                });
            }
            // Also kept by a primary: it applies once the region is a standby itself (after a failback).
            if (failoverMs != null) {
                extra.put("dr.failover.ms", String.valueOf(failoverMs));
            }
            if (manualFailover) {
                extra.put("dr.manual.failover", "true");
            }
            Map<String, String> tuning = new java.util.HashMap<>(extra);
            tuning.putAll(NamedRegions.drTuning(base, target, peers));
            tuning.putAll(extra);
            layout = base.withTuning(tuning);
            if (standbyOf != null) {
                layout = joinGlobalName(layout, RegionLayout.load(named.dir(standbyOf)));
            } else {
                Map<String, String> t = new java.util.HashMap<>(layout.tuning());
                t.putAll(NamedRegions.globalTuning(java.util.List.of(layout)));
                layout = layout.withTuning(t);
            }
            layout.save();
        } else if (RegionLayout.exists(dir)) {
            layout = RegionLayout.load(dir);
            if (layout.gateways().isEmpty() && !layout.tuning().containsKey("dr.enabled")) {
                // A region made before there were gateways: give it the two instances a new one has.
                String prefix = layout.sharedApi().substring(0, layout.sharedApi().indexOf(".0.1:"));
                RegionLayout fresh = RegionLayout.of(layout.region(), dir, layout.zones().size(), prefix, hidden.raftPort, hidden.httpPort,
                        hidden.apiPort, layout.tuning());
                layout = new RegionLayout(layout.region(), layout.dataDir(), layout.zones(), layout.tuning(), layout.sharedApi(),
                        fresh.gateways(), fresh.domain(), fresh.sharedDns(), layout.clusterId());
            }
            if (layout.zones().size() != zones && data != null) {
                System.err.printf("note: %s holds a region of %d zones; starting it as it is%n", dir, layout.zones().size());
            }
            String has = layout.tuning().getOrDefault("store.backend", "raft");
            if (!has.equals(storeBackend) && !(storeBackend.equals("raft") && postgresUrl == null)) {
                // A region's data does not move between backends by restarting it: its tenants do, by export and import.
                throw new IllegalArgumentException(dir + " holds a region on " + has + "; to move it to " + storeBackend + ", export its"
                        + " namespaces (petrel ns export), start a new region on " + storeBackend + " with another --data, and import them"
                        + " (petrel ns import); see the README, \"Switching a region to PostgreSQL\"");
            }
            if (!storeTuning.isEmpty()) {
                Map<String, String> t = new java.util.HashMap<>(layout.tuning());
                t.putAll(storeTuning);         // e.g. a new URL after the database moved
                layout = layout.withTuning(t);
            }
        } else {
            layout = RegionLayout.of("local", dir, zones, hidden.ipPrefix, hidden.raftPort, hidden.httpPort, hidden.apiPort, storeTuning);
        }
        Files.createDirectories(dir);
        if (standbyOf != null && !StandbyCommands.seeded(layout)) {
            StandbyCommands.seed(layout, standbyOf, named);
        }
        LocalRegion region = new LocalRegion(layout, RegionOptions.launcher(dir));
        RegionOptions.remember(dir);
        long started = System.nanoTime();
        region.startAll();
        if (foreground) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.out.println("stopping the region ...");
                region.stopAll(Duration.ofSeconds(20));
            }));
        }
        region.awaitReady(Duration.ofSeconds(timeoutSeconds));
        if (layout.tuning().containsKey("dr.enabled")) {
            awaitWritesIfPrimary(layout, Duration.ofSeconds(Math.max(10, timeoutSeconds - (System.nanoTime() - started) / 1_000_000_000)));
        }
        System.out.printf("region '%s' is ready (%d zones, %.1f s); data in %s%n", layout.region(), layout.zones().size(),
                (System.nanoTime() - started) / 1e9, dir);
        String postgres = layout.tuning().get("store.postgres.url");
        for (ZoneSpec z : layout.zones()) {
            System.out.printf("  zone %s  store %-18s http %s  api %s  (status %s, log %s)%n", z.zone(),
                    postgres != null ? "postgres" : z.peer().address(), z.httpUrl(), z.apiUrl(), z.statusUrl(), z.dataDir().resolve("node.log"));
        }
        if (postgres != null) {
            System.out.printf("store          PostgreSQL %s (its replication and backups are the database's own)%n", postgres);
        }
        for (GatewaySpec g : layout.gateways()) {
            System.out.printf("  gateway %s  api %s  dns %s:%d  (status %s, log %s)%n", g.name(), g.apiUrl(), g.host(), g.dnsPort(), g.statusUrl(),
                    g.dataDir().resolve("gateway.log"));
        }
        System.out.printf("OpenWhisk API  http://%s  (the gateways, in front of every zone; admin key in %s)%n", layout.sharedApi(), layout.adminKeyFile());
        System.out.printf("DNS            %s and %s at %s (UDP and TCP), e.g. dig -p %s @%s %s%n", layout.apiName(), layout.gatewayName(),
                layout.sharedDns(), layout.sharedDns().substring(layout.sharedDns().lastIndexOf(':') + 1),
                layout.sharedDns().substring(0, layout.sharedDns().lastIndexOf(':')), layout.apiName());
        System.out.printf("guest key      %s%n", OpenWhiskApi.GUEST_AUTH);
        System.out.printf("try            curl -u %s http://%s/api/v1/namespaces/_/actions%n", OpenWhiskApi.GUEST_AUTH, layout.sharedApi());
        System.out.println("next: ./petrel status | ./petrel ns create NAME | ./petrel zone kill|stop|start ZONE | ./petrel gw kill|stop|start g1 | ./petrel down");
        if (foreground) {
            LogFollower.follow(layout);
        }
        return 0;
    }
}
