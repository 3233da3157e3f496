package io.petrel.backup.format;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A full snapshot of a cluster's state: where it stands in the log, what it holds (key count, state
 * digest: what a restore checks), and every file with its plain size and sha256 and the object that
 * stores it. Files are shared between snapshots by content, so an unchanged file is stored once.
 *
 * @param breakAfter the archive position before this snapshot when it was taken because entries were
 *                   lost unarchived (the journal outgrew its budget), else 0: points between the two
 *                   cannot be restored
 */
public record SnapshotManifest(String format, String region, String clusterId, String zone, long term, long index, long revision,
                               long clock, long takenAt, long keys, String digest, Encoding encoding, List<FileEntry> files,
                               long breakAfter) {
    public static final String FORMAT = "petrel-backup-snapshot/1";
    /** The digest of a snapshot whose content is still being read (its key count is then -1). */
    public static final String DIGEST_PENDING = "pending";

    public SnapshotManifest {
        requireNonNull(format, "format");
        requireNonNull(clusterId, "clusterId");
        requireNonNull(digest, "digest");
        requireNonNull(encoding, "encoding");
        files = List.copyOf(files);
    }

    /** Whether the key count and state digest are recorded yet (a restore checks them only then). */
    public boolean hasSummary() {
        return keys >= 0 && !DIGEST_PENDING.equals(digest);
    }

    public long bytes() {
        return files.stream().mapToLong(FileEntry::size).sum();
    }

    /** One file of a snapshot. */
    public record FileEntry(String name, long size, String sha256, String object, long storedSize, Encoding encoding) {
        public FileEntry {
            requireNonNull(name, "name");
            requireNonNull(encoding, "encoding");
            requireNonNull(sha256, "sha256");
            requireNonNull(object, "object");
        }
    }
}
