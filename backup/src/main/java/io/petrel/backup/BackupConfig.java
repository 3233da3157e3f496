package io.petrel.backup;

import io.petrel.backup.format.BackupKey;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * How a zone backs up: where to ({@code backup.target}: a directory or {@code s3://bucket/prefix?...}),
 * with which key, how often, and for how long.
 *
 * @param archiveInterval  how often committed entries are shipped: the RPO
 * @param snapshotInterval how often a full snapshot is taken
 * @param verifyInterval   how often the newest backup is restored into a scratch folder and checked (zero: never)
 * @param journalBytes     how much unarchived log each zone keeps while the target is away before it
 *                         drops the oldest (and the next snapshot starts a new restore window)
 */
public record BackupConfig(String target, Optional<BackupKey> key, Duration archiveInterval, Duration snapshotInterval,
                           Duration verifyInterval, RetentionPolicy retention, long journalBytes) {

    public BackupConfig {
        requireNonNull(target, "target");
        requireNonNull(key, "key");
        requireNonNull(retention, "retention");
        if (archiveInterval.toMillis() < 50) {
            throw new IllegalArgumentException("backup.archive.interval.ms must be at least 50");
        }
        if (snapshotInterval.toSeconds() < 1) {
            throw new IllegalArgumentException("backup.snapshot.interval.s must be at least 1");
        }
        if (journalBytes < 1024 * 1024) {
            throw new IllegalArgumentException("backup.journal.bytes must be at least 1 MiB");
        }
    }

    /**
     * Reads {@code backup.*} keys; empty when {@code backup.target} is unset or {@code none}. Relative
     * target paths are taken from {@code baseDir}.
     */
    public static Optional<BackupConfig> fromProperties(Properties p, Map<String, String> env, Path baseDir) throws IOException {
        String target = p.getProperty("backup.target", "").trim();
        if (target.isEmpty() || target.equals("none")) {
            return Optional.empty();
        }
        if (!target.contains(":") && !Path.of(target).isAbsolute()) {
            target = baseDir.resolve(target).toAbsolutePath().normalize().toString();
        }
        Optional<BackupKey> key = Optional.empty();
        String keyFile = p.getProperty("backup.key.file", "").trim();
        String keyEnv = p.getProperty("backup.key.env", "").trim();
        if (!keyFile.isEmpty() && !keyEnv.isEmpty()) {
            throw new IllegalArgumentException("give backup.key.file or backup.key.env, not both");
        }
        if (!keyFile.isEmpty()) {
            key = Optional.of(BackupKey.fromFile(Path.of(keyFile)));
        } else if (!keyEnv.isEmpty()) {
            key = Optional.of(BackupKey.fromEnv(keyEnv, env));
        }
        return Optional.of(new BackupConfig(target, key,
                Duration.ofMillis(longOr(p, "backup.archive.interval.ms", 1000)),
                Duration.ofSeconds(longOr(p, "backup.snapshot.interval.s", 3600)),
                Duration.ofSeconds(longOr(p, "backup.verify.interval.s", 6 * 3600)),
                new RetentionPolicy(Duration.ofHours(longOr(p, "backup.retention.hours", 7 * 24)), (int) longOr(p, "backup.retention.snapshots", 3)),
                longOr(p, "backup.journal.bytes", 1024L * 1024 * 1024)));
    }

    private static long longOr(Properties p, String key, long dflt) {
        String v = p.getProperty(key);
        try {
            return v == null || v.isBlank() ? dflt : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backup configuration '" + key + "' must be a number, got '" + v + "'");
        }
    }
}
