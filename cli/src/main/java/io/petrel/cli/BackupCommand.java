package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.petrel.backup.BackupCatalog;
import io.petrel.backup.BackupRepository;
import io.petrel.backup.Pruner;
import io.petrel.backup.RetentionPolicy;
import io.petrel.backup.Verifier;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.cli.backup.BackupTargetOptions;
import io.petrel.cli.backup.ConsoleProgress;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code petrel backup now|list|verify|prune}: the region's backups. */
@Command(name = "backup", mixinStandardHelpOptions = true, description = "Take, list, verify or prune the region's backups.")
final class BackupCommand {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Command(name = "now", mixinStandardHelpOptions = true, description = "Take a full snapshot now (the leading zone takes it).")
    int now(@Mixin RegionOptions region) throws Exception {
        RegionLayout layout = RegionLayout.load(region.resolve());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<String> tried = new ArrayList<>();
        for (ZoneSpec z : layout.zones()) {
            URI uri = URI.create("http://" + z.host() + ":" + z.httpPort() + "/admin/v1/backup/snapshot");
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    JsonNode m = JSON.readTree(r.body());
                    System.out.printf("snapshot of cluster %s at index %d (term %d, revision %d, %d keys, %d bytes in %d files) taken by zone %s%n",
                            m.path("clusterId").asText(), m.path("index").asLong(), m.path("term").asLong(), m.path("revision").asLong(),
                            m.path("keys").asLong(), m.path("files").findValues("size").stream().mapToLong(JsonNode::asLong).sum(),
                            m.path("files").size(), z.zone());
                    return 0;
                }
                tried.add("zone " + z.zone() + ": " + JSON.readTree(r.body()).path("error").asText(r.body()));
            } catch (IOException e) {
                tried.add("zone " + z.zone() + ": " + e.getMessage());
            }
        }
        System.err.println("no zone took the snapshot:\n  " + String.join("\n  ", tried));
        return 1;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List snapshots, the archive and the restore windows.")
    int list(@Mixin RegionOptions region, @Mixin BackupTargetOptions from,
             @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
        try (BackupRepository repo = from.open(defaultTarget(region))) {
            BackupCatalog catalog = new BackupCatalog(repo);
            List<Map<String, Object>> clusters = new ArrayList<>();
            for (String cluster : repo.clusters()) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("cluster", cluster);
                List<Map<String, Object>> snaps = new ArrayList<>();
                for (SnapshotManifest s : repo.snapshots(cluster)) {
                    snaps.add(Map.of("index", s.index(), "term", s.term(), "revision", s.revision(), "takenAt", Instant.ofEpochMilli(s.takenAt()).toString(),
                            "keys", s.keys(), "bytes", s.bytes(), "files", s.files().size(), "encryption", s.encoding().encryption()));
                }
                c.put("snapshots", snaps);
                var segments = repo.segments(cluster);
                c.put("segments", segments.size());
                c.put("archivedTo", segments.isEmpty() ? -1 : segments.getLast().lastIndex());
                List<Map<String, Object>> windows = new ArrayList<>();
                for (BackupCatalog.Window w : catalog.windows(cluster)) {
                    windows.add(Map.of("fromIndex", w.fromIndex(), "toIndex", w.toIndex(), "from", w.fromTime() == 0 ? "the start" : Instant.ofEpochMilli(w.fromTime()).toString(),
                            "to", Instant.ofEpochMilli(w.toTime()).toString()));
                }
                c.put("restoreWindows", windows);
                c.put("breaks", repo.breaks(cluster));
                clusters.add(c);
            }
            if (json) {
                System.out.println(JSON.writeValueAsString(Map.of("target", repo.target().describe(), "clusters", clusters)));
                return 0;
            }
            System.out.printf("backups in %s%n", repo.target().describe());
            if (clusters.isEmpty()) {
                System.out.println("  none");
            }
            for (Map<String, Object> c : clusters) {
                System.out.printf("%ncluster %s: %d snapshots, %s archive segments%n", c.get("cluster"), ((List<?>) c.get("snapshots")).size(),
                        c.get("segments"));
                System.out.printf("  %-12s %-6s %-25s %10s %14s%n", "INDEX", "TERM", "TAKEN", "KEYS", "BYTES");
                for (Object o : (List<?>) c.get("snapshots")) {
                    Map<?, ?> s = (Map<?, ?>) o;
                    System.out.printf("  %-12s %-6s %-25s %10s %14s%n", s.get("index"), s.get("term"), s.get("takenAt"), s.get("keys"), s.get("bytes"));
                }
                for (Object o : (List<?>) c.get("restoreWindows")) {
                    Map<?, ?> w = (Map<?, ?>) o;
                    System.out.printf("  restorable: index %s..%s, %s .. %s%n", w.get("fromIndex"), w.get("toIndex"), w.get("from"), w.get("to"));
                }
                for (Object b : (List<?>) c.get("breaks")) {
                    BackupRepository.BreakRecord r = (BackupRepository.BreakRecord) b;
                    System.out.printf("  BREAK: entries after %d up to %d were lost unarchived (%s)%n", r.lastArchived(), r.resumedAt(), r.reason());
                }
            }
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Restore the newest point into a scratch folder and check every backup object's digest.")
    int verify(@Mixin RegionOptions region, @Mixin BackupTargetOptions from,
               @Option(names = "--quick", description = "only restore the newest point; do not read every other object") boolean quick)
            throws Exception {
        Path scratch = Files.createTempDirectory("petrel-verify-");
        try (BackupRepository repo = from.open(defaultTarget(region)); ConsoleProgress progress = new ConsoleProgress()) {
            Verifier.Report report = new Verifier(repo).verify(from.cluster(), scratch.resolve("state"), !quick, progress);
            progress.close();
            report.restored().ifPresent(r -> System.out.printf("restored cluster %s to index %d (revision %d, %d keys) in %d ms%n",
                    r.cluster(), r.position().index(), r.position().revision(), r.keys(), r.millis()));
            System.out.printf("%d snapshots, %d archive segments, %d objects checked in %d ms%n", report.snapshots(), report.segments(),
                    report.objectsChecked(), report.millis());
            if (report.ok()) {
                System.out.println("backups of cluster " + report.cluster() + " verified: OK");
                return 0;
            }
            System.out.println("backups of cluster " + report.cluster() + " FAILED verification:");
            report.problems().forEach(p -> System.out.println("  " + p));
            return 1;
        } finally {
            io.petrel.cli.backup.Files2.deleteRecursively(scratch);
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = "Delete backups outside the retention policy (never what a kept restore point needs).")
    int prune(@Mixin RegionOptions region, @Mixin BackupTargetOptions from,
              @Option(names = "--max-age-hours", defaultValue = "168", description = "keep snapshots younger than this (default 168)") long hours,
              @Option(names = "--keep", defaultValue = "3", description = "keep at least this many newest snapshots (default 3)") int keep,
              @Option(names = "--dry-run", description = "only say what would be deleted") boolean dryRun) throws Exception {
        try (BackupRepository repo = from.open(defaultTarget(region))) {
            Pruner.Report report = new Pruner(repo, Clock.systemUTC()).prune(new RetentionPolicy(Duration.ofHours(hours), keep), dryRun);
            report.deleted().forEach(n -> System.out.println((dryRun ? "would delete " : "deleted ") + n));
            System.out.printf("%s %d objects (%d bytes); %d snapshots kept%n", dryRun ? "would delete" : "deleted", report.deleted().size(),
                    report.deletedBytes(), report.keptSnapshots());
            return 0;
        }
    }

    /** The region's backup target, if there is a region to ask. */
    static String defaultTarget(RegionOptions region) throws IOException {
        Path dir = region.resolve();
        if (!RegionLayout.exists(dir)) {
            return null;
        }
        return RegionLayout.load(dir).backupTarget();
    }
}
