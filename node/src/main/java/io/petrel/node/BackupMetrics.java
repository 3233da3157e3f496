package io.petrel.node;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.petrel.backup.BackupAgent;

import java.util.function.ToDoubleFunction;

/**
 * The backups' health as Prometheus gauges: the live RPO (age of the oldest entry not archived yet),
 * the age of the newest archived entry, archive lag, the last snapshot's time and size, breaks and
 * target errors, and the last verification's result (1 passed, 0 failed, -1 not run yet).
 */
final class BackupMetrics {
    private BackupMetrics() {
    }

    static void bind(BackupAgent agent, MeterRegistry registry, String zone) {
        gauge(registry, zone, agent, "petrel_backup_rpo_seconds", "age of the oldest committed entry not archived yet (0: all archived)",
                BackupAgent.Status::rpoSeconds);
        gauge(registry, zone, agent, "petrel_backup_newest_archived_entry_age_seconds", "age of the newest archived entry, on the leader",
                BackupAgent.Status::newestArchivedAgeSeconds);
        gauge(registry, zone, agent, "petrel_backup_archive_lag_milliseconds", "commit to archive time of the last segment's oldest entry",
                s -> s.archiveLagMillis());
        gauge(registry, zone, agent, "petrel_backup_unarchived_entries", "committed entries with data not archived yet",
                s -> s.unarchivedEntries());
        gauge(registry, zone, agent, "petrel_backup_archived_index", "the replicated archive position", s -> s.archivedIndex());
        gauge(registry, zone, agent, "petrel_backup_last_snapshot_timestamp_seconds", "when the newest snapshot was taken",
                s -> s.lastSnapshotTime() < 0 ? Double.NaN : s.lastSnapshotTime() / 1000.0);
        gauge(registry, zone, agent, "petrel_backup_last_snapshot_bytes", "size of the newest snapshot", s -> s.lastSnapshotBytes());
        gauge(registry, zone, agent, "petrel_backup_breaks", "breaks in the archive since start (entries lost unarchived)", s -> s.breaks());
        gauge(registry, zone, agent, "petrel_backup_target_errors", "failed backup target operations since start", s -> s.targetErrors());
        gauge(registry, zone, agent, "petrel_backup_target_up", "1 while the backup target answers", s -> s.targetReachable() ? 1 : 0);
        gauge(registry, zone, agent, "petrel_backup_last_verification_result", "1 passed, 0 failed, -1 not run yet",
                s -> s.lastVerifyResult());
        gauge(registry, zone, agent, "petrel_backup_leading", "1 on the zone taking the backups", s -> s.leads() ? 1 : 0);
    }

    private static void gauge(MeterRegistry registry, String zone, BackupAgent agent, String name, String help,
                              ToDoubleFunction<BackupAgent.Status> f) {
        Gauge.builder(name, agent, a -> f.applyAsDouble(a.status())).description(help).tag("zone", zone).register(registry);
    }
}
