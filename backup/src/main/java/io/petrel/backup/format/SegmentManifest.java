package io.petrel.backup.format;

import static java.util.Objects.requireNonNull;

/**
 * One archived stretch of the applied log, entries {@code firstIndex..lastIndex} without a gap: their
 * terms, their times on the region's replicated clock, the revision after the last one (a restore to
 * its end checks it), and the sha256 and size of the plain segment.
 */
public record SegmentManifest(String format, String region, String clusterId, String zone, long firstIndex, long lastIndex,
                              long firstTerm, long lastTerm, long firstTime, long lastTime, long entries, long revisionAfter,
                              String sha256, long size, String object, long storedSize, Encoding encoding, long archivedAt) {
    public static final String FORMAT = "petrel-backup-segment/1";

    public SegmentManifest {
        requireNonNull(format, "format");
        requireNonNull(clusterId, "clusterId");
        requireNonNull(sha256, "sha256");
        requireNonNull(object, "object");
        requireNonNull(encoding, "encoding");
        if (lastIndex < firstIndex || entries != lastIndex - firstIndex + 1) {
            throw new IllegalArgumentException("segment " + firstIndex + "-" + lastIndex + " says it has " + entries + " entries");
        }
    }
}
