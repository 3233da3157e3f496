package io.petrel.store.ratis;

import java.time.Duration;

/**
 * The consensus and storage knobs, with defaults chosen for three zones on a loaded two-core machine:
 * an election timeout long enough that a GC pause or a busy core does not start an election, short
 * enough that a dead leader is replaced in about a second.
 *
 * @param electionTimeoutMin   a follower that hears nothing for a random time in [min, max] starts
 *                             a (pre-)vote
 * @param electionTimeoutMax   see above
 * @param writeTimeout         how long a write may look for a leader with a quorum before it fails
 *                             with "no quorum"
 * @param snapshotEveryEntries a snapshot is taken, and the log purged behind it, every this many entries
 * @param logSegmentBytes      size of one log segment file (only whole segments are purged)
 * @param diskReserveBytes     writes are refused while less than this is free on the data disk
 * @param verifyOnOpen         check every stored file's checksum at start
 * @param journalBytes         how much of the applied log each replica keeps for the backup archive
 *                             until it is archived (0: none, when nothing archives it)
 */
public record StoreTuning(Duration electionTimeoutMin, Duration electionTimeoutMax, Duration writeTimeout,
                          long snapshotEveryEntries, long logSegmentBytes, long diskReserveBytes, boolean verifyOnOpen,
                          long journalBytes) {

    public static final StoreTuning DEFAULT = new StoreTuning(Duration.ofMillis(500), Duration.ofMillis(900),
            Duration.ofSeconds(5), 20_000, 8L * 1024 * 1024, 64L * 1024 * 1024, true, 0);

    public StoreTuning {
        if (electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
            throw new IllegalArgumentException("election timeout max must be above min");
        }
        if (snapshotEveryEntries < 100) {
            throw new IllegalArgumentException("snapshots every fewer than 100 entries would thrash");
        }
        if (journalBytes < 0) {
            throw new IllegalArgumentException("the journal budget must not be negative");
        }
        if (logSegmentBytes < 64 * 1024) {
            throw new IllegalArgumentException("log segments must be at least 64 KiB");
        }
    }

    public StoreTuning withSnapshotEveryEntries(long entries) {
        return new StoreTuning(electionTimeoutMin, electionTimeoutMax, writeTimeout, entries, logSegmentBytes, diskReserveBytes, verifyOnOpen, journalBytes);
    }

    public StoreTuning withLogSegmentBytes(long bytes) {
        return new StoreTuning(electionTimeoutMin, electionTimeoutMax, writeTimeout, snapshotEveryEntries, bytes, diskReserveBytes, verifyOnOpen, journalBytes);
    }

    public StoreTuning withDiskReserveBytes(long bytes) {
        return new StoreTuning(electionTimeoutMin, electionTimeoutMax, writeTimeout, snapshotEveryEntries, logSegmentBytes, bytes, verifyOnOpen, journalBytes);
    }

    public StoreTuning withJournalBytes(long bytes) {
        return new StoreTuning(electionTimeoutMin, electionTimeoutMax, writeTimeout, snapshotEveryEntries, logSegmentBytes, diskReserveBytes, verifyOnOpen, bytes);
    }

    public StoreTuning withWriteTimeout(Duration timeout) {
        return new StoreTuning(electionTimeoutMin, electionTimeoutMax, timeout, snapshotEveryEntries, logSegmentBytes, diskReserveBytes, verifyOnOpen, journalBytes);
    }
}
