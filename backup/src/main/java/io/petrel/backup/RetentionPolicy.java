package io.petrel.backup;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * How long backups are kept: every snapshot younger than {@code maxAge}, and the newest
 * {@code minSnapshots} whatever their age; with each kept snapshot, the archive after it.
 */
public record RetentionPolicy(Duration maxAge, int minSnapshots) {
    public static final RetentionPolicy DEFAULT = new RetentionPolicy(Duration.ofDays(7), 3);

    public RetentionPolicy {
        requireNonNull(maxAge, "maxAge");
        if (minSnapshots < 1) {
            throw new IllegalArgumentException("retention must keep at least one snapshot, not " + minSnapshots);
        }
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("retention age must not be negative");
        }
    }
}
