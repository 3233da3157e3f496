package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.cli.dr.DrClient;
import io.petrel.cli.dr.LostWrites;
import io.petrel.cli.local.LocalRegion;
import io.petrel.cli.local.NamedRegions;
import io.petrel.cli.local.RegionLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

/** {@code petrel region ...}: disaster recovery between named regions on this machine. */
@Command(name = "region", mixinStandardHelpOptions = true, description = "Disaster recovery: a region's role, switchover, promotion, failback.",
        subcommands = {RegionCommand.Status.class, RegionCommand.Promote.class, RegionCommand.Switchover.class, RegionCommand.Failback.class})
final class RegionCommand {

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Each zone's role, epoch, lease and lag.")
    static final class Status implements Callable<Integer> {
        @Mixin
        RegionOptions region;

        @Override
        public Integer call() throws Exception {
            RegionLayout layout = RegionLayout.load(region.resolve());
            System.out.printf("%-5s %-6s %-9s %-5s %-7s %-8s %-9s %-10s %s%n", "zone", "leads", "role", "epoch", "primary", "writable", "lease ms",
                    "lag", "problem");
            for (JsonNode s : new DrClient().statuses(layout)) {
                System.out.printf("%-5s %-6s %-9s %-5d %-7s %-8s %-9d %-10s %s%n", s.path("zone").asText(), s.path("leads").asBoolean(),
                        s.path("role").asText(), s.path("epoch").asLong(), s.path("primary").asText("-"), s.path("writable").asBoolean(),
                        s.path("leaseRemainingMs").asLong(), s.path("lagEntries").asLong(-1) < 0 ? "-"
                                : s.path("lagEntries").asLong() + " (" + s.path("lagMillis").asLong() + " ms)", s.path("problem").asText(""));
            }
            return 0;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Promote a standby now (the primary is gone: it waits out the old primary's lease first).")
    static final class Promote implements Callable<Integer> {
        @Mixin
        RegionOptions region;

        @Override
        public Integer call() throws Exception {
            RegionLayout layout = RegionLayout.load(region.resolve());
            JsonNode p = new DrClient().postToLeader(layout, "/admin/v1/dr/promote", Duration.ofMinutes(2));
            System.out.printf("region %s is the primary in epoch %d (took over at entry %d of cluster %s, in %d ms)%n", layout.region(),
                    p.path("epoch").asLong(), p.path("sourceIndex").asLong(), p.path("sourceCluster").asText(), p.path("millis").asLong());
            return 0;
        }
    }

    @Command(name = "switchover", mixinStandardHelpOptions = true,
            description = "Planned: the primary (--region) stops taking writes and archives its last entries; the standby --to applies them and takes over.")
    static final class Switchover implements Callable<Integer> {
        @Mixin
        RegionOptions region;

        @Option(names = "--to", required = true, paramLabel = "NAME", description = "the standby region that takes over")
        String to;

        @Override
        public Integer call() throws Exception {
            RegionLayout primary = RegionLayout.load(region.resolve());
            RegionLayout standby = RegionLayout.load(new NamedRegions(RegionOptions.home()).dir(to));
            DrClient dr = new DrClient();
            long started = System.nanoTime();
            JsonNode d = dr.postToLeader(primary, "/admin/v1/dr/demote?to=" + to, Duration.ofSeconds(90));
            System.out.printf("region %s stopped taking writes; its archive holds every entry up to %d%n", primary.region(), d.path("lastIndex").asLong());
            JsonNode p = dr.postToLeader(standby, "/admin/v1/dr/promote?planned=true&upTo=" + d.path("lastIndex").asLong(), Duration.ofSeconds(90));
            System.out.printf("region %s is the primary in epoch %d, at entry %d of cluster %s: nothing lost (%d ms)%n", to, p.path("epoch").asLong(),
                    p.path("sourceIndex").asLong(), p.path("sourceCluster").asText(), (System.nanoTime() - started) / 1_000_000);
            System.out.printf("next: ./petrel region failback --region %s   (makes it a standby of %s)%n", primary.region(), to);
            return 0;
        }
    }

    @Command(name = "failback", mixinStandardHelpOptions = true,
            description = "Make a former primary (--region) a standby of the region that took over: report the writes it applied that the "
                    + "new primary never got, then seed it from the new primary's backups.")
    static final class Failback implements Callable<Integer> {
        @Mixin
        RegionOptions region;

        @Option(names = "--of", paramLabel = "NAME", description = "the new primary (default: the region holding the newest epoch)")
        String of;

        @Option(names = "--timeout", defaultValue = "120", description = "seconds to wait for the standby to be ready")
        int timeoutSeconds;

        @Option(names = "--failover-ms", paramLabel = "MS", description = "promote automatically after the new primary has been unreachable "
                + "this long (default: what the region had, else 60000)")
        Long failoverMs;

        @Option(names = "--manual-failover", description = "never promote automatically")
        boolean manualFailover;

        @Override
        public Integer call() throws Exception {
            Path dir = region.resolve();
            RegionLayout old = RegionLayout.load(dir);
            NamedRegions named = new NamedRegions(RegionOptions.home());
            String newPrimary = of;
            if (newPrimary == null) {
                try (var repo = io.petrel.backup.target.BackupTargets.open(old.backupTarget(), System.getenv())) {
                    newPrimary = new io.petrel.dr.EpochLedger(repo).current().orElseThrow(
                            () -> new IllegalStateException("the witness holds no epoch: there is no primary to fail back to")).region();
                } catch (IllegalArgumentException | java.io.IOException e) {
                    throw new IllegalStateException("give --of NAME: the new primary could not be read from " + old.backupTarget() + ": "
                            + e.getMessage(), e);
                }
            }
            if (newPrimary.equals(old.region())) {
                throw new IllegalStateException("region " + old.region() + " holds the newest epoch: it is the primary, there is nothing to fail back");
            }
            RegionLayout primary = RegionLayout.load(named.dir(newPrimary));
            DrClient dr = new DrClient();
            JsonNode p = dr.leaderStatus(primary).orElseThrow(() -> new IllegalStateException("region " + primary.region() + " does not answer"));
            if (!"PRIMARY".equals(p.path("role").asText())) {
                throw new IllegalStateException("region " + primary.region() + " is " + p.path("role").asText() + ", not the primary");
            }
            LocalRegion oldRegion = new LocalRegion(old, RegionOptions.launcher(dir));
            oldRegion.stopAll(Duration.ofSeconds(20));
            long takenOver = p.path("sourceCluster").asText("").equals(old.clusterId()) ? p.path("sourceIndex").asLong() : -1;
            if (takenOver >= 0) {
                LostWrites.Report report;
                try (var repo = new io.petrel.backup.BackupRepository(io.petrel.backup.target.BackupTargets.open(old.backupTarget(), System.getenv()),
                        new io.petrel.backup.format.ObjectCodec(java.util.Optional.empty()))) {
                    report = LostWrites.find(old, takenOver, repo);
                }
                Path file = LostWrites.save(report, dir);
                System.out.printf("region %s applied %d write entries after entry %d, where region %s took over: they are not in %s "
                        + "(ids and keys in %s)%n", old.region(), report.writes().size(), takenOver, primary.region(), primary.region(), file);
                report.writes().stream().limit(20).forEach(w -> System.out.printf("  entry %d (term %d, %s): %s%n", w.index(), w.term(), w.time(),
                        String.join(", ", w.keys())));
            } else {
                System.out.printf("region %s did not take over from cluster %s; no writes of it to report%n", primary.region(), old.clusterId());
            }
            Map<String, String> tuning = new HashMap<>(old.tuning());
            tuning.put("dr.peer.health", String.join(",", primary.zones().stream().map(z -> z.host() + ":" + z.httpPort()).toList()));
            if (failoverMs != null) {
                tuning.put("dr.failover.ms", String.valueOf(failoverMs));
            }
            if (manualFailover) {
                tuning.put("dr.manual.failover", "true");
            }
            RegionLayout fresh = new RegionLayout(old.region(), old.dataDir(), old.zones(), tuning, old.sharedApi(), old.gateways(), old.domain(),
                    old.sharedDns(), UUID.randomUUID().toString());
            for (var z : fresh.zones()) {
                io.petrel.cli.backup.Files2.deleteRecursively(z.dataDir().resolve("state"));
                io.petrel.cli.backup.Files2.deleteRecursively(z.dataDir().resolve("raft"));
                io.petrel.cli.backup.Files2.deleteRecursively(z.dataDir().resolve("backup-work"));
            }
            fresh.save();
            StandbyCommands.seed(fresh, primary.region(), named);
            LocalRegion standby = new LocalRegion(fresh, RegionOptions.launcher(dir));
            standby.startAll();
            standby.awaitReady(Duration.ofSeconds(timeoutSeconds));
            System.out.printf("region %s is a standby of region %s (new cluster %s)%n", fresh.region(), primary.region(), fresh.clusterId());
            return 0;
        }
    }
}
